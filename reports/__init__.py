"""Report view-model builder and Jinja2 templates."""
