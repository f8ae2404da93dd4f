"""The embeddable widget: one script and its stylesheet, served by the service itself."""
