"""Open311 cross-cutting rules: formats, content types, discovery, services, definitions, errors, jurisdiction."""

from __future__ import annotations

import json

import pytest

from tests import factories
from tests.web.open311.conftest import BASE, get, xml_root


def test_t1_xml_content_type_and_declaration(client):
    for path in ("/services.xml", "/discovery.xml", "/requests.xml"):
        response = get(client, path)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
        assert response.data.startswith(b'<?xml version="1.0" encoding="utf-8"?>')


def test_t2_json_content_type(client):
    for path in ("/services.json", "/discovery.json", "/requests.json", "/services/pothole.json"):
        response = get(client, path)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"


def test_t3_unknown_extension_is_404(client):
    for path in ("/services.csv", "/requests.html", "/discovery.yaml", "/services/pothole.txt"):
        response = get(client, path)
        assert response.status_code == 404
        assert response.get_json()[0]["code"] == 404


def test_t5_services_json_is_a_top_level_array(client):
    body = get(client, "/services.json").get_json()
    assert isinstance(body, list)
    assert {s["service_code"] for s in body} >= {"pothole", "snow_ice", "other"}
    assert len(body) == 16


def test_t6_service_definition_json_is_an_object(client, pothole_with_attributes):
    body = get(client, "/services/pothole.json").get_json()
    assert isinstance(body, dict)
    assert body["service_code"] == "pothole"
    assert [a["code"] for a in body["attributes"]] == ["depth", "hazards", "note"]


def test_t7_no_jurisdiction_id_is_fine(client):
    assert get(client, "/services.json").status_code == 200
    assert get(client, "/requests.json", jurisdiction_id="").status_code == 200
    assert get(client, "/requests.json", jurisdiction_id="cambridgema.gov").status_code == 200


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_t8_wrong_jurisdiction_id_is_404_with_error_body(client, fmt):
    for path in (f"/services.{fmt}", f"/requests.{fmt}", f"/discovery.{fmt}", f"/services/pothole.{fmt}"):
        response = get(client, path, jurisdiction_id="somewhere.else")
        assert response.status_code == 404
        if fmt == "json":
            assert response.get_json()[0]["code"] == 404
            assert "jurisdiction_id" in response.get_json()[0]["description"]
        else:
            root = xml_root(response)
            assert root.tag == "errors" and root.find("error/code").text == "404"


def test_t9_empty_parameter_equals_absent(client, db):
    factories.ticket(db)
    closed = factories.ticket(db, "graffiti")
    from civictracker.services.tickets import change_status

    change_status(db, closed, "resolved", replies=factories.replies())
    db.commit()
    baseline = get(client, "/requests.json").get_json()
    assert len(baseline) == 2
    for param in ("status", "service_code", "start_date", "end_date", "page", "page_size", "extensions"):
        assert get(client, "/requests.json", **{param: ""}).get_json() == baseline, param


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_t10_discovery(client, fmt):
    response = get(client, f"/discovery.{fmt}")
    if fmt == "json":
        body = response.get_json()
        endpoint = body["endpoints"][0]
        assert {"changeset", "contact", "key_service"} <= set(body)
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint["url"].endswith("/open311/v2")
        assert {"application/json", "text/xml"} <= set(endpoint["formats"])
        assert endpoint["type"] in {"production", "test"}
    else:
        root = xml_root(response)
        formats = {f.text for f in root.findall("endpoints/endpoint/formats/format")}
        assert {"application/json", "text/xml"} <= formats
        assert root.find("endpoints/endpoint/type").text in {"production", "test"}


def test_t11_services_have_required_fields(client, pothole_with_attributes):
    for service in get(client, "/services.json").get_json():
        for key in ("service_code", "service_name", "type", "metadata", "description"):
            assert key in service
        assert service["type"] in {"realtime", "batch", "blackbox"}
        assert isinstance(service["metadata"], bool)
        assert service["metadata"] is (service["service_code"] == "pothole")
    root = xml_root(get(client, "/services.xml"))
    metadata = {s.find("service_code").text: s.find("metadata").text for s in root.findall("service")}
    assert metadata["pothole"] == "true" and metadata["trash"] == "false"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_t12_unknown_service_code_is_404(client, fmt):
    response = get(client, f"/services/NOPE.{fmt}")
    assert response.status_code == 404
    if fmt == "json":
        body = response.get_json()
        assert isinstance(body, list) and body[0]["code"] == 404 and "NOPE" in body[0]["description"]
    else:
        assert xml_root(response).find("error/code").text == "404"


def test_t13_list_attributes_have_values_and_unique_order(client, db, pothole_with_attributes):
    service = factories.service(db, "pothole")
    # A broken list attribute (no values) and a clashing order, as an admin might leave them.
    service.attributes = [
        *pothole_with_attributes.attributes,
        {"code": "broken", "datatype": "singlevaluelist", "order": 1, "values": []},
        {"code": "extra", "datatype": "number", "order": 1},
    ]
    db.commit()
    attributes = get(client, "/services/pothole.json").get_json()["attributes"]
    codes = [a["code"] for a in attributes]
    assert "broken" not in codes and "extra" in codes
    orders = [a["order"] for a in attributes]
    assert len(set(orders)) == len(orders) and all(isinstance(o, int) and o > 0 for o in orders)
    for attribute in attributes:
        if attribute["datatype"] in ("singlevaluelist", "multivaluelist"):
            assert attribute["values"] and all({"key", "name"} <= set(v) for v in attribute["values"])
    root = xml_root(get(client, "/services/pothole.xml"))
    assert root.tag == "service_definition"
    depth = root.find("attributes/attribute")
    assert depth.find("code").text == "depth" and depth.find("required").text == "true"
    assert [v.find("key").text for v in depth.findall("values/value")] == ["shallow", "deep"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/services/NOPE.json", 404),
        ("get", "/requests/999999.json", 404),
        ("get", "/requests/abc.json", 404),
        ("get", "/tokens/abc.json", 404),
        ("get", "/requests.json?status=maybe", 400),
        ("get", "/requests.json?start_date=yesterday", 400),
        ("get", "/nothing-here.json", 404),
        ("post", "/requests.json", 403),
        ("put", "/requests.json", 405),
        ("post", "/services.json", 405),
    ],
)
def test_t33_every_error_has_the_error_shape(client, method, path, status):
    for fmt in ("json", "xml"):
        response = getattr(client, method)(BASE + path.replace(".json", f".{fmt}"))
        assert response.status_code == status, (path, fmt)
        if fmt == "json":
            assert response.headers["Content-Type"] == "application/json; charset=utf-8"
            body = json.loads(response.data)
            assert isinstance(body, list) and body
            assert body[0]["code"] == status and body[0]["description"]
        else:
            root = xml_root(response)
            assert root.tag == "errors"
            assert root.find("error/code").text == str(status) and root.find("error/description").text


def test_t21_tokens_are_not_issued_unknown_token_is_404(client):
    response = get(client, "/tokens/12345.json")
    assert response.status_code == 404
    assert "token" in response.get_json()[0]["description"]


def test_xml_escapes_user_text(client, db):
    factories.ticket(db, description='Fish & chips <b>"quoted"</b> ]]>', source_channel="web")
    db.commit()
    root = xml_root(get(client, "/requests.xml"))
    assert root.find("request/description").text == 'Fish & chips <b>"quoted"</b> ]]>'
