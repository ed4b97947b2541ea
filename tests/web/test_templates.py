"""Every template fits the Content-Security-Policy (script-src/style-src 'self', no
'unsafe-inline'), and needs nothing from another origin to render."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = sorted((Path(__file__).resolve().parents[2] / "src/empause/web/templates").glob("*.html"))


def test_there_are_templates_to_check():
    assert len(TEMPLATES) >= 9


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_no_inline_script_style_or_handler_and_nothing_remote(template):
    html = template.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert "<style" not in html, "inline <style>"
    assert not re.search(r"\sstyle\s*=", html), "style= attribute"
    assert not re.search(r"\son[a-z]+\s*=", html), "on*= event handler"
    assert "javascript:" not in html
    assert not re.search(r"""(?:src|href)=["'](?:https?:)?//""", html), "remote resource"
