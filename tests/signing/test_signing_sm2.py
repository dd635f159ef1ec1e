"""Optional SM2/SM3 suite: the GB/T 32918 test vector, round trip, tampering, pinning."""

from __future__ import annotations

import pytest
from signing_helpers import header, penalty

from gateway.publication.bulletin import build_bulletin
from gateway.signing.dsig import SignatureInvalid

gmalg = pytest.importorskip("gmalg", reason="the optional SM2 suite needs gmalg (pip install gmalg)")

from gateway.signing.sm2 import Sm2Key, Sm2Trust, sign_xml_sm2, sm2_verify, sm3, verify_xml_sm2  # noqa: E402

# GB/T 32918.2-2016 / GM/T 0003.2 example on the recommended curve, ID "1234567812345678"
D_A = bytes.fromhex("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8")
P_A = bytes.fromhex(
    "0409F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
)
K = 0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21
R = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
S = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"


def test_sm3_matches_the_gbt_32905_example():
    assert sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_sm2_matches_the_gbt_32918_vector_with_the_standard_nonce():
    signer = gmalg.SM2(D_A, b"1234567812345678", P_A, rnd_fn=lambda bits: K)
    r, s = signer.sign(b"message digest")
    assert (r.hex().upper(), s.hex().upper()) == (R, S)
    assert sm2_verify(P_A, b"message digest", bytes.fromhex(R + S))
    assert not sm2_verify(P_A, b"message digesT", bytes.fromhex(R + S))


def test_library_nonces_differ_per_signature():
    key = Sm2Key(D_A, P_A)
    assert key.sign(b"m") != key.sign(b"m")


def test_sm2_bulletin_round_trip_and_tampering():
    key = Sm2Key.generate()
    data = sign_xml_sm2(build_bulletin(header(), [penalty()]), key)
    trust = Sm2Trust("provincial-platform", (key.public,))
    content = verify_xml_sm2(data, trust)
    assert content.find(".//{urn:safety-credit:bulletin:1}CF_NR").text == "罚款人民币叁万元"
    with pytest.raises(SignatureInvalid):
        verify_xml_sm2(data.replace("叁万元".encode(), "贰万元".encode()), trust)
    with pytest.raises(SignatureInvalid, match="not pinned"):
        verify_xml_sm2(data, Sm2Trust("other", (Sm2Key.generate().public,)))
