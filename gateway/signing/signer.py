"""Signing in the gateway's one XML-DSig profile (`gateway.signing.dsig` verifies it).

An enveloped signature over the whole document (one Reference, URI=""), exclusive C14N 1.0,
SHA-256, RSA-SHA256 or ECDSA-P256-SHA256 by the key's suite, and a KeyInfo carrying the key
id (KeyName) and the certificate chain. signxml signs; the subclass below cuts its defensive
copy of the input (see docs/notes.md, signxml).
"""

from __future__ import annotations

import base64
import copy
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from lxml import etree
from signxml import XMLSigner
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm

from gateway.signing.dsig import DS, SIGNATURE_METHODS, ds
from gateway.signing.keys import SigningKey


class _Signer(XMLSigner):
    def get_root(self, data):
        # signxml serialises and re-parses the input twice to get private copies. A tree root
        # inherits no namespaces, so lxml's deepcopy is an exact and ~4x cheaper copy.
        if isinstance(data, etree._Element) and data.getparent() is None:
            return copy.deepcopy(data)
        return super().get_root(data)


@dataclass
class _PreparedKey:
    key: SigningKey
    signer: _Signer
    key_info: etree._Element


_prepared: dict[int, _PreparedKey] = {}


def _prepare(key: SigningKey) -> _PreparedKey:
    """Per key, once: the signxml signer and the KeyInfo element (KeyName + certificate)."""
    found = _prepared.get(id(key))
    if found is not None and found.key is key:
        return found
    signer = _Signer(
        signature_algorithm=SIGNATURE_METHODS[key.suite],
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    key_info = etree.Element(ds("KeyInfo"), nsmap={"ds": DS})
    etree.SubElement(key_info, ds("KeyName")).text = key.key_id
    x509_data = etree.SubElement(key_info, ds("X509Data"))
    for cert in (key.certificate, *key.chain):
        der = cert.public_bytes(serialization.Encoding.DER)
        etree.SubElement(x509_data, ds("X509Certificate")).text = base64.b64encode(der).decode()
    prepared = _PreparedKey(key, signer, key_info)
    _prepared[id(key)] = prepared
    return prepared


def sign_element(root: etree._Element, key: SigningKey) -> etree._Element:
    """Sign a document root (not modified); return a new signed root."""
    if root.getparent() is not None:
        raise ValueError("only a document root can carry an enveloped signature")
    if root.get("Id") is not None or root.get("ID") is not None:
        raise ValueError("the profile signs the whole document (URI=\"\"); the root must not carry an Id")
    prepared = _prepare(key)
    return prepared.signer.sign(
        root, key=key.private_key, key_info=copy.deepcopy(prepared.key_info), reference_uri=None
    )


def sign_xml(root: etree._Element, key: SigningKey) -> bytes:
    """Sign and serialise (UTF-8, with XML declaration)."""
    return etree.tostring(sign_element(root, key), xml_declaration=True, encoding="UTF-8")
