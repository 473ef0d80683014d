"""Build hook for the one C extension; all other metadata lives in pyproject.toml.

The extension is the query-path matmul kernel (latentscore/models/halfgemm.py). It is
optional: without a C compiler the install still succeeds and the MiniLM encoder runs on
numpy, about twice as slow per query. (Declared here rather than in pyproject's
``[tool.setuptools.ext-modules]``, which setuptools still marks experimental.)
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "latentscore.models._halfgemm",
            sources=["latentscore/models/_halfgemm.c"],
            optional=True,
        )
    ]
)
