"""Shared builders for the signing tests (keys are generated once per session: RSA is slow)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gateway.publication.bulletin import BulletinHeader, BulletinItem
from gateway.signing.keys import SigningKey, parse_subject, self_signed_certificate

NOW = dt.datetime(2024, 6, 3, 8, 0, tzinfo=dt.UTC)
USCC = "91510700MA62345678"
ISSUER = "11510700MB12345623"


@cache
def rsa_key(name: str = "gw", days: int = 365) -> SigningKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = self_signed_certificate(private, parse_subject(f"CN={name},O=test"), days=days, now=NOW)
    return SigningKey(private, cert)


@cache
def ec_key(name: str = "gw-ec") -> SigningKey:
    private = ec.generate_private_key(ec.SECP256R1())
    return SigningKey(private, self_signed_certificate(private, parse_subject(f"CN={name}"), now=NOW))


def header(**kw) -> BulletinHeader:
    values = dict(
        bulletin_id="b-2024-0001", sequence=17, issuer_uscc=ISSUER, created=NOW,
        profile="municipal-2021", destination="credit-china", kind="mixed",
    )
    values.update(kw)
    return BulletinHeader(**values)


def penalty(item_id: str = "i-1", **fields) -> BulletinItem:
    data = {
        "CF_XDR_MC": "绵阳某矿业有限公司", "CF_XDR_SHXYM": USCC, "CF_WSH": "绵应急罚〔2024〕12号",
        "CF_WFXW": "未按规定开展隐患排查", "CF_SY": "2024年3月检查发现……", "CF_YJ": "《安全生产法》第九十七条",
        "CF_CFLB": "罚款", "CF_NR": "罚款人民币叁万元", "CF_NR_FK": Decimal("3"), "CF_JDRQ": dt.date(2024, 5, 20),
        "CF_CFJG": "绵阳市应急管理局", "CF_CFJGDM": ISSUER, "serious": False,
    }
    data.update(fields)
    return BulletinItem(item_id, "penalty.publication", USCC, data, record_id="rec-1")


def licence(item_id: str = "i-2") -> BulletinItem:
    return BulletinItem(item_id, "licence.publication", USCC, {
        "XK_XDR_MC": "绵阳某矿业有限公司", "XK_XKWS": "安全生产许可证", "XK_WSH": "(川)FM安许证字〔2024〕1号",
        "XK_XKLB": "普通", "XK_NR": "非煤矿山开采", "XK_JDRQ": dt.date(2024, 1, 5), "XK_YXQZ": dt.date(2024, 1, 5),
        "XK_YXQZI": dt.date(2027, 1, 4), "XK_XKJG": "四川省应急管理厅", "XK_XKJGDM": ISSUER, "XK_ZT": "1",
    })


def all_kinds() -> list[BulletinItem]:
    return [
        penalty(),
        licence(),
        BulletinItem("i-3", "list.inclusion", USCC, {
            "list": "joint_punishment", "level": "city", "subject_name": "绵阳某矿业有限公司",
            "cases": ["jp01_accident", "jp06_accident_concealment"],
            "period_start": dt.date(2024, 6, 1), "period_end": dt.date(2025, 5, 31),
            "measures": [{"receiver": "land", "code": "restrict_land_bidding", "text": "限制参与土地招拍挂"}],
            "decision_ref": "绵安委〔2024〕3号",
        }),
        BulletinItem("i-4", "list.removal", USCC, {
            "list": "blacklist", "ref_bulletin_id": "b-2023-0100", "ref_item_id": "i-9",
            "reason": "期满移出", "effective_on": dt.date(2024, 6, 1),
        }),
        BulletinItem("i-5", "rating", USCC, {"scheme": "star", "value": "4", "score": Decimal("88.5"), "year": 2023}),
        BulletinItem("i-6", "commitment", USCC, {
            "committer_role": "principal", "items": ["落实全员安全生产责任制", "按时排查治理隐患"],
            "committed_on": dt.date(2024, 2, 1), "kept": True,
        }),
        BulletinItem("i-7", "penalty.withdrawal", USCC, {
            "ref_bulletin_id": "b-2023-0007", "ref_item_id": "i-1", "decision_number": "绵应急罚〔2023〕5号",
            "reason": "expired", "withdrawn_on": dt.date(2024, 6, 1),
        }),
        BulletinItem("i-8", "repair", USCC, {
            "ref_bulletin_id": "b-2023-0008", "ref_item_id": "i-2", "decision_number": "绵应急罚〔2023〕6号",
            "repair_decision_ref": "信用修复〔2024〕9号", "repaired_on": dt.date(2024, 5, 30),
        }),
    ]


# --- forgeries: what an attacker without the gateway's key can make -------------------------------

LONG_FROM = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)  # valid from before NOW to years after today


@cache
def long_key(name: str) -> SigningKey:
    """An RSA key whose certificate is valid at NOW and at the real present (10 years), so the
    documented commands run verbatim, with and without --verification-time."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return SigningKey(private, self_signed_certificate(private, parse_subject(f"CN={name},O=test"), days=3650,
                                                       now=LONG_FROM))


def keyvalue_forgery(signed: bytes, key: SigningKey, replace: tuple[bytes, bytes] | None = None) -> bytes:
    """Strip the signature, optionally change the content, and sign again with `key` in the
    gateway's profile (enveloped, exclusive C14N, RSA-SHA256) carrying only a <ds:KeyValue>:
    no certificate at all."""
    from cryptography.hazmat.primitives import serialization
    from lxml import etree
    from signxml import XMLSigner, methods

    root = etree.fromstring(signed)
    for sig in root.findall("{http://www.w3.org/2000/09/xmldsig#}Signature"):
        root.remove(sig)
    data = etree.tostring(root, encoding="UTF-8")
    if replace is not None:
        assert replace[0] in data, replace[0]
        data = data.replace(*replace)
    signer = XMLSigner(method=methods.enveloped, signature_algorithm="rsa-sha256", digest_algorithm="sha256",
                       c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
    signer.namespaces = {"ds": "http://www.w3.org/2000/09/xmldsig#"}
    pem = key.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    forged = etree.tostring(signer.sign(etree.fromstring(data), key=pem), xml_declaration=True, encoding="UTF-8")
    assert b"KeyValue" in forged and b"X509Certificate" not in forged
    return forged
