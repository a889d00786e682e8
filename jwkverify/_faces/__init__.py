"""What the framework faces (FastMCP, FastAPI) decide for one request, on the shared ``_web`` rules."""
