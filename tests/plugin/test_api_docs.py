"""The OpenAPI document and the browsable docs, served from vendored assets only."""

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "plugin" / "static" / "vendor" / "swagger-ui"


@pytest.fixture(scope="module")
def client(tmp_path_factory, api_maker):
    return api_maker(tmp_path_factory.mktemp("docs")).client


def test_openapi_document_names_every_endpoint_with_its_role_and_schemas(client):
    spec = client.get("/openapi.json").json
    assert spec["openapi"].startswith("3.") and spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    paths = spec["paths"]
    draft = paths["/api/v1/tickets/{source}/{ticket_id}/draft-check"]["post"]
    assert draft["x-role"] == "agent" and draft["security"] == [{"bearer": []}]
    assert draft["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/DraftCheckRequest")
    assert {"401", "403", "404", "422"} <= set(draft["responses"])
    assert paths["/api/v1/admin/models/{version}/activate"]["post"]["x-role"] == "admin"
    assert paths["/api/v1/customers/at-risk"]["get"]["x-role"] == "lead"
    assert {"sort", "limit"} <= {p["name"] for p in paths["/api/v1/customers/at-risk"]["get"]["parameters"]}
    for name in ("FeedbackRequest", "ThresholdsRequest", "PartnersRequest", "ModelsResponse", "TicketGuidanceResponse"):
        assert name in spec["components"]["schemas"]
    assert len(paths) >= 14


def test_docs_page_loads_only_local_assets(client):
    page = client.get("/docs")
    assert page.status_code == 200 and "default-src 'self'" in page.headers["Content-Security-Policy"]
    html = page.get_data(as_text=True)
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and not [u for u in urls if re.match(r"(?i)(https?:)?//", u)]
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert "http" not in (ROOT / "plugin" / "static" / "docs-init.js").read_text()


def test_vendored_files_carry_their_license_and_are_packaged():
    assert {"swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"} <= {p.name for p in VENDOR.iterdir()}
    assert "Apache License" in (VENDOR / "LICENSE").read_text()
    assert "swagger-ui-dist" in (VENDOR / "VENDORED.md").read_text()
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["plugin"]
    assert any(p.startswith("static/") for p in package_data)
