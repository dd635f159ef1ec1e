"""A local 企业信用信息公示系统 exchange service: `gateway simulate enterprise-publicity`.

Real SOAP 1.1 over HTTP on loopback, from the very files the adapter ships:

    GET  /publicity/soap?wsdl     service.wsdl (its soap:address set to where it listens)
    GET  /publicity/service.xsd   service.xsd (the WSDL imports it by relative location)
    POST /publicity/soap          SubmitBulletin / QueryReceipt

Each request body is validated against `service.xsd` (a Client fault E_SCHEMA if not), and
each answer is validated before it leaves, so the simulator cannot drift from the contract.
The bulletin inside is verified (pinned gateway signature, `bulletin.xsd`; a Client fault
E_SIGNATURE if not), applied once per DeliveryId (SQLite), and answered with Status
accepted + the signed receipt, or queued with `--async-receipts` (then QueryReceipt). With
`--require-wsse` the envelope must carry a WS-Security signature by the gateway key.
Injected faults come back as soap:Fault (E_UNAVAILABLE, E_THROTTLED with RetryAfter, E_INTERNAL).
"""

from __future__ import annotations

import base64
import functools
from urllib.parse import parse_qs

from lxml import etree

from adapters._sim.faults import FaultState
from adapters._sim.http import FaultMiddleware, read_body, respond, stats_admin
from adapters._sim.receiver import Receiver, certificate_file
from adapters.enterprise_publicity.adapter import NS, WSDL, XSD
from gateway import xmlsafe

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SERVICE_PATH = "/publicity/soap"
XSD_PATH = "/publicity/service.xsd"
PLACEHOLDER_ADDRESS = "http://127.0.0.1:8082/publicity/soap"
SOAP_CTYPE = "text/xml; charset=utf-8"


def p(tag: str) -> str:
    return f"{{{NS}}}{tag}"


@functools.cache
def schema() -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(XSD), parser=parser))


def validate(element: etree._Element) -> list[str]:
    compiled = schema()
    if compiled.validate(element):
        return []
    return [f"{e.message}" for e in compiled.error_log]


def served_wsdl(address: str) -> bytes:
    """The shipped WSDL with its placeholder address replaced (nothing else changes)."""
    return WSDL.read_bytes().replace(PLACEHOLDER_ADDRESS.encode(), address.encode())


def envelope(payload: etree._Element) -> bytes:
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV, "p": NS})
    etree.SubElement(env, f"{{{SOAP_ENV}}}Body").append(payload)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def fault(faultcode: str, code: str, message: str, retry_after: int | None = None) -> bytes:
    f = etree.Element(f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(f, "faultcode").text = f"soap:{faultcode}"
    etree.SubElement(f, "faultstring").text = message
    detail = etree.SubElement(etree.SubElement(f, "detail"), p("ServiceFault"), nsmap={"p": NS})
    etree.SubElement(detail, p("Code")).text = code
    etree.SubElement(detail, p("Message")).text = message
    if retry_after:
        etree.SubElement(detail, p("RetryAfter")).text = str(retry_after)
    problems = validate(detail)
    assert not problems, problems
    return envelope(f)


def render_fault(status: int, code: str, message: str, retry_after: int | None) -> tuple[str, bytes]:
    return SOAP_CTYPE, fault("Client" if 400 <= status < 500 and status != 429 else "Server", code, message,
                             retry_after)


def _element(tag: str, children: list[tuple[str, str | None]]) -> etree._Element:
    el = etree.Element(p(tag), nsmap={"p": NS})
    for name, text in children:
        if text is not None:
            etree.SubElement(el, p(name)).text = text
    return el


class PublicityApp:
    def __init__(self, receiver: Receiver, *, require_wsse: bool = False) -> None:
        self.receiver = receiver
        self.require_wsse = require_wsse

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        method, path = scope["method"], scope["path"]
        body = await read_body(receive)
        query = parse_qs(scope.get("query_string", b"").decode(), keep_blank_values=True)
        if method == "GET" and path == SERVICE_PATH and "wsdl" in {k.lower() for k in query}:
            host = dict(scope["headers"]).get(b"host", b"127.0.0.1").decode()
            return await respond(send, 200, served_wsdl(f"http://{host}{SERVICE_PATH}"), "text/xml")
        if method == "GET" and path == XSD_PATH:
            return await respond(send, 200, XSD.read_bytes(), "text/xml")
        if method != "POST" or path != SERVICE_PATH:
            return await respond(send, 404, b"not found", "text/plain")
        status, out = self.handle(body)
        return await respond(send, status, out, SOAP_CTYPE)

    def handle(self, body: bytes) -> tuple[int, bytes]:
        try:
            env = xmlsafe.parse(body)
        except Exception as exc:  # noqa: BLE001 - anything unreadable is the client's fault
            return 500, fault("Client", "E_XML", f"unreadable request: {exc}")
        payload = env.find(f"{{{SOAP_ENV}}}Body/*")
        if env.tag != f"{{{SOAP_ENV}}}Envelope" or payload is None:
            return 500, fault("Client", "E_SOAP", "not a SOAP 1.1 envelope with a body")
        if self.require_wsse:
            problem = self._check_wsse(env)
            if problem:
                self.receiver.stats["unauthorised"] += 1
                return 500, fault("Client", "E_WSSE", problem)
        problems = validate(payload)
        if problems:
            return 500, fault("Client", "E_SCHEMA", "; ".join(problems[:3]))
        if payload.tag == p("SubmitBulletinRequest"):
            answer = self._submit(payload)
        elif payload.tag == p("QueryReceiptRequest"):
            answer = self._query(payload)
        else:
            return 500, fault("Client", "E_OPERATION", f"unknown operation {payload.tag}")
        if isinstance(answer, bytes):
            return 500, answer
        problems = validate(answer)
        if problems:  # our own answer breaks the contract: a bug, said loudly
            return 500, fault("Server", "E_CONTRACT", "; ".join(problems[:3]))
        return 200, envelope(answer)

    def _check_wsse(self, env: etree._Element) -> str | None:
        from cryptography.hazmat.primitives import serialization
        from zeep.exceptions import SignatureVerificationFailed
        from zeep.wsse.signature import MemorySignature

        for cert in self.receiver.trust.pinned:
            pem = cert.public_bytes(serialization.Encoding.PEM)
            try:
                MemorySignature(b"", pem).verify(env)
                return None
            except SignatureVerificationFailed:
                continue
            except Exception as exc:  # noqa: BLE001 - a missing or broken header
                return f"WS-Security: {type(exc).__name__}: {exc}"
        return "WS-Security: the envelope is not signed by the pinned gateway key"

    def _submit(self, req: etree._Element) -> etree._Element | bytes:
        delivery_id = req.findtext(p("DeliveryId"))
        try:
            bulletin = base64.b64decode(req.findtext(p("Bulletin")) or "", validate=False)
        except ValueError:
            return fault("Client", "E_SCHEMA", "Bulletin is not base64")
        result = self.receiver.accept(delivery_id, bulletin)
        if result.outcome == "invalid":
            return fault("Client", "E_SIGNATURE", result.error or "invalid bulletin")
        if result.receipt is None:
            return _element("SubmitBulletinResponse", [("DeliveryId", delivery_id), ("Status", "queued"),
                                                       ("Message", "queued; ask QueryReceipt")])
        receipt = base64.b64encode(self.receiver.answer_receipt(result.receipt)).decode()
        message = "duplicate delivery: nothing applied again" if result.outcome == "duplicate" else None
        return _element("SubmitBulletinResponse", [("DeliveryId", delivery_id), ("Status", "accepted"),
                                                   ("Receipt", receipt), ("Message", message)])

    def _query(self, req: etree._Element) -> etree._Element:
        delivery_id = req.findtext(p("DeliveryId"))
        state, receipt = self.receiver.receipt_for(delivery_id)
        encoded = base64.b64encode(self.receiver.answer_receipt(receipt)).decode() if receipt else None
        return _element("QueryReceiptResponse", [("DeliveryId", delivery_id), ("Status", state), ("Receipt", encoded)])


def build_app(receiver: Receiver, faults: FaultState, *, keys_dir, require_wsse: bool = False):  # noqa: ANN001, ANN201
    return FaultMiddleware(PublicityApp(receiver, require_wsse=require_wsse), faults, render_fault,
                           admin=stats_admin(receiver, certificate_file(keys_dir)))
