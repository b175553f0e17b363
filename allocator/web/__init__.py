"""The allocation meeting in a browser: ``allocator serve`` (:mod:`allocator.web.app`).

Needs the ``serve`` extra (FastAPI, Jinja2, uvicorn, SQLAlchemy).
"""
