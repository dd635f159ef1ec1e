"""An uploaded record's data is serialized once: the canonical JSON its content hash is taken
of is the text stored (`JsonText`, passed through by the engines' `json_serializer`), and the
hash is the one records stored before this change carry, so a re-upload still answers
duplicate. On either database."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select, text

from gateway.intake import prepare as prep
from gateway.store.tables import records, subjects
from gateway.store.types import JsonText, serialize_json
from tests.intake.test_platform_exports import HEADER_2016, HEADER_2021, csv_bytes, row_2016, row_2021, upload


def _old_hash(kind, action, subject_key, data) -> str:  # noqa: ANN001 - the formula stored hashes were made by
    canonical = json.dumps([kind, action, subject_key, data], sort_keys=True, ensure_ascii=False,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _stored(services) -> list:
    with services.db.read() as conn:
        return list(conn.execute(select(records).order_by(records.c.id)))


def test_uploaded_data_reads_back_as_validated_and_hashes_as_before(client, services, agency_with_uscc):
    body = upload(client, csv_bytes(HEADER_2021, [row_2021(i) for i in range(3)], "gb18030"))
    body16 = upload(client, csv_bytes(HEADER_2016, [row_2016(i) for i in range(2)], "gb18030"))
    assert {r["outcome"] for r in body["results"] + body16["results"]} == {"accepted"}, (body, body16)

    rows = _stored(services)
    assert len(rows) == 5
    with services.db.read() as conn:
        keys = dict(conn.execute(select(subjects.c.id, subjects.c.key)).all())
    for row in rows:
        assert isinstance(row.data, dict) and row.data["CF_WSH"]  # a document, not a JSON string of one
        assert row.content_hash == _old_hash(row.kind, row.action, keys[row.subject_id], row.data)
        api = client.get(f"/v1/records/{row.uid}").json()["versions"][0]["data"]
        assert api == row.data

    if services.db.dialect == "sqlite":  # the text stored is the canonical JSON, written once
        with services.db.read() as conn:
            stored = conn.execute(text("SELECT data FROM records ORDER BY id")).scalars().all()
        assert stored == [json.dumps(r.data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
                          for r in rows]

    again = upload(client, csv_bytes(HEADER_2021, [row_2021(i) for i in range(3)], "gb18030"))
    assert {r["outcome"] for r in again["results"]} == {"duplicate"}


def test_the_content_hash_of_a_record_is_the_hash_of_the_whole_canonical_list():
    cases = [("penalty", "publish", "91510703MA6XXXXX0X", {"CF_WSH": "罚〔2026〕1号", "n": 2, "x": [1, None, True],
                                                           "z": {"b": "乙", "a": "甲"}}),
             (None, "withdraw", None, {}), ("licence", "publish", None, {"quote": '"\\\t\n', "e": "\u2028"})]
    for kind, action, key, data in cases:
        assert prep.content_hash(kind, action, key, data) == _old_hash(kind, action, key, data)


def test_the_serializer_passes_json_text_through_and_encodes_everything_else():
    assert serialize_json(JsonText('{"a":1}')) == '{"a":1}'
    assert serialize_json('{"a":1}') == json.dumps('{"a":1}')  # a plain str is a JSON string value
    assert serialize_json({"名": [1, None]}) == json.dumps({"名": [1, None]})
