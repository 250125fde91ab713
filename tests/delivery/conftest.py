"""Every delivery test starts and ends with an empty PDF cache: a document rendered by one test is never reused by the next."""

import pytest

from shared.documents import pdf as pdf_module


@pytest.fixture(autouse=True)
def fresh_render_cache():
    pdf_module.clear_cache()
    yield
    pdf_module.clear_cache()
