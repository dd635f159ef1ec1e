"""Sign and verify 1-, 100- and 1,000-item bulletins: the gateway's signer vs libxmlsec1.

    .venv/bin/python bench/sign.py [--repeat N] [--profile]

Both sides get the same unsigned documents (fresh copies prepared outside the timed region,
because both signers add the Signature to the tree) and the same preloaded RSA-2048 key; the two run alternately and the best run of each counts:

  sign   = element -> signed bytes (ours: `signer.sign_xml`; xmlsec: template + SignatureContext.sign
           + serialisation)
  verify = bytes -> verified (ours: `dsig.verify_xml` with a pinned certificate, which parses
           with gateway.xmlsafe, checks the profile and returns the signed content re-parsed
           from canonical bytes; xmlsec: parse + find Signature + SignatureContext.verify)

ratio = xmlsec time / ours (>= 1 means we are faster). Target: >= 0.9.
Needs python-xmlsec (`pip install xmlsec`; builds against libxmlsec1-dev).
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import datetime as dt
import pstats
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from lxml import etree  # noqa: E402

from gateway.publication.bulletin import BulletinHeader, BulletinItem, build_bulletin  # noqa: E402
from gateway.signing.dsig import Trust, verify_xml  # noqa: E402
from gateway.signing.keys import SigningKey, parse_subject, self_signed_certificate  # noqa: E402
from gateway.signing.signer import sign_xml  # noqa: E402

USCC = "91510700MA62345678"


def bulletin(n: int) -> etree._Element:
    header = BulletinHeader("b-bench", 1, "11510700MB12345623", dt.datetime.now(dt.UTC), "municipal-2021",
                            "credit-china", "publication")
    items = [
        BulletinItem(f"i-{i}", "penalty.publication", USCC, {
            "CF_XDR_MC": "绵阳某矿业有限公司", "CF_XDR_SHXYM": USCC, "CF_WSH": f"绵应急罚〔2024〕{i}号",
            "CF_WFXW": "未按规定开展隐患排查治理", "CF_SY": "2024年3月检查发现该公司未建立隐患排查治理制度",
            "CF_YJ": "《中华人民共和国安全生产法》第九十七条", "CF_CFLB": "罚款", "CF_NR": "罚款人民币叁万元",
            "CF_NR_FK": Decimal("3"), "CF_JDRQ": dt.date(2024, 5, 20), "CF_CFJG": "绵阳市应急管理局",
            "CF_CFJGDM": "11510700MB12345623",
        })
        for i in range(n)
    ]
    return build_bulletin(header, items)


def paired_ms(ours, theirs, make_input, repeat: int) -> tuple[float, float]:
    """Run both alternately on identical inputs; the best run of each (the machine is shared,
    so the minimum is the least noisy estimate of the cost itself)."""
    a, b = [], []
    for _ in range(repeat):
        x, y = make_input(), make_input()
        t0 = time.perf_counter()
        ours(x)
        t1 = time.perf_counter()
        theirs(y)
        t2 = time.perf_counter()
        a.append((t1 - t0) * 1000)
        b.append((t2 - t1) * 1000)
    return min(a), min(b)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=0, help="runs per size (default: 200/50/15)")
    parser.add_argument("--profile", action="store_true", help="print where our time goes (1,000 items)")
    args = parser.parse_args()
    try:
        import xmlsec
    except ImportError:
        print("python-xmlsec is not installed: pip install xmlsec (needs libxmlsec1-dev)", file=sys.stderr)
        return 2

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = self_signed_certificate(private, parse_subject("CN=bench"))
    key = SigningKey(private, cert)
    trust = Trust.for_keys("bench", [key])
    key_pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    xkey = xmlsec.Key.from_memory(key_pem, xmlsec.constants.KeyDataFormatPem)
    xkey.load_cert_from_memory(cert_pem, xmlsec.constants.KeyDataFormatPem)
    vkey = xmlsec.Key.from_memory(cert_pem, xmlsec.constants.KeyDataFormatCertPem)

    def xmlsec_sign(root: etree._Element) -> bytes:
        sig = xmlsec.template.create(root, xmlsec.constants.TransformExclC14N, xmlsec.constants.TransformRsaSha256)
        root.append(sig)
        ref = xmlsec.template.add_reference(sig, xmlsec.constants.TransformSha256, uri="")
        xmlsec.template.add_transform(ref, xmlsec.constants.TransformEnveloped)
        xmlsec.template.add_transform(ref, xmlsec.constants.TransformExclC14N)
        key_info = xmlsec.template.ensure_key_info(sig)
        xmlsec.template.add_key_name(key_info, key.key_id)
        xmlsec.template.add_x509_data(key_info)
        ctx = xmlsec.SignatureContext()
        ctx.key = xkey
        ctx.sign(sig)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    def xmlsec_verify(data: bytes) -> None:
        root = etree.fromstring(data)
        sig = xmlsec.tree.find_node(root, xmlsec.constants.NodeSignature)
        ctx = xmlsec.SignatureContext()
        ctx.key = vkey
        ctx.verify(sig)

    print(f"{'items':>6} {'bytes':>9} | {'sign ours':>10} {'xmlsec':>8} {'ratio':>6} | "
          f"{'verify ours':>11} {'xmlsec':>8} {'ratio':>6}")
    for n, default_repeat in ((1, 200), (100, 50), (1000, 15)):
        repeat = args.repeat or default_repeat
        doc = bulletin(n)
        ours_signed = sign_xml(copy.deepcopy(doc), key)
        theirs_signed = xmlsec_sign(copy.deepcopy(doc))
        # each side verifies its own and the other's output (same profile, interoperable)
        verify_xml(theirs_signed, trust)
        xmlsec_verify(ours_signed)
        for _ in range(2):  # warm-up, then measure
            sign_ours, sign_xmlsec = paired_ms(
                lambda d: sign_xml(d, key), xmlsec_sign, lambda: copy.deepcopy(doc), repeat  # noqa: B023
            )
            verify_ours, verify_xmlsec = paired_ms(
                lambda b: verify_xml(b, trust), xmlsec_verify, lambda: ours_signed, repeat  # noqa: B023
            )
        print(f"{n:>6} {len(ours_signed):>9} | {sign_ours:>8.3f}ms {sign_xmlsec:>6.3f}ms {sign_xmlsec / sign_ours:>6.2f} | "
              f"{verify_ours:>9.3f}ms {verify_xmlsec:>6.3f}ms {verify_xmlsec / verify_ours:>6.2f}")

    if args.profile:
        doc = bulletin(1000)
        signed = sign_xml(copy.deepcopy(doc), key)
        for label, stmt in (("sign", lambda: sign_xml(copy.deepcopy(doc), key)),
                            ("verify", lambda: verify_xml(signed, trust))):
            prof = cProfile.Profile()
            prof.runcall(stmt)
            print(f"\n--- {label}, 1,000 items ---")
            pstats.Stats(prof).sort_stats("tottime").print_stats(8)
    return 0


if __name__ == "__main__":
    sys.exit(main())
