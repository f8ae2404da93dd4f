"""The ceiling of bench/sidebyside.py: the smallest Flask app, served the same way."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"
