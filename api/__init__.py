"""HTTP interface of the accelerator: FastAPI app, routers, authentication."""
