from engagement import create_app

app = create_app()
