"""Messages: addresses checked when given, MIME built by the standard ``email`` package.

Strategy: a :class:`Message` keeps what the user gave (addresses already parsed
and checked, bodies, attachments as bytes, extra headers) and builds a fresh
``email.message.EmailMessage`` whenever it is rendered, because the rendering
depends on the server: with SMTPUTF8 the headers travel as UTF-8 (RFC 6532),
without it non-ASCII text is RFC 2047-encoded and domains are IDNA-encoded.
Every header value and address is refused when it holds a CR or LF, so no input
can start a second header. Attachments are always base64: what arrives is
byte-for-byte what was attached.
"""

from __future__ import annotations

import mimetypes
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email import policy as email_policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, localtime, make_msgid
from typing import Any

from cyclone_ext_mail._errors import HeaderInjection, InvalidAddress

__all__ = ["AddressLike", "Attachment", "Message", "MessageAddress", "parse_address"]

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010ffff]"
_LOCAL_RE = re.compile(rf'(?:{_ATEXT}+(?:\.{_ATEXT}+)*|"(?:[^"\\\r\n]|\\.)*")\Z')
_ALNUM = r"A-Za-z0-9\u0080-\U0010ffff"
_LABEL = rf"[{_ALNUM}](?:[{_ALNUM}\-]*[{_ALNUM}])?"
_DOMAIN_RE = re.compile(rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[!-Z^-~]+\])\Z")
_NAMED_RE = re.compile(r"\s*(.*?)\s*<([^<>]*)>\s*\Z", re.S)
_HEADER_NAME_RE = re.compile(r"[!-9;-~]+\Z")

# Headers the Message writes from its own arguments.
_MANAGED = frozenset(
    {"from", "to", "cc", "bcc", "reply-to", "subject", "mime-version"}
    | {"content-type", "content-transfer-encoding", "content-disposition"}
)


def _no_newline(what: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise HeaderInjection(f"{what} must not contain CR or LF: {value!r}")
    return value


@dataclass(frozen=True)
class MessageAddress:
    """One checked address: ``display_name`` (may be empty), ``local`` and ``domain``."""

    display_name: str
    local: str
    domain: str

    @property
    def addr_spec(self) -> str:
        """``local@domain`` as given (Unicode)."""
        return f"{self.local}@{self.domain}"

    @property
    def needs_smtputf8(self) -> bool:
        """Whether the local part is non-ASCII (the domain can be IDNA-encoded instead)."""
        return not self.local.isascii()

    def envelope(self, utf8: bool) -> str:
        """The address for ``MAIL FROM``/``RCPT TO``: IDNA domain unless ``utf8``."""
        if utf8 or self.domain.isascii():
            return self.addr_spec
        return f"{self.local}@{_idna(self.domain)}"

    def header(self, utf8: bool) -> Address:
        """The ``email.headerregistry.Address`` to put in a header."""
        local = self.local
        if local.startswith('"'):
            local = re.sub(r"\\(.)", r"\1", local[1:-1])
        domain = self.domain if utf8 else _idna(self.domain)
        return Address(self.display_name, local, domain)

    def __str__(self) -> str:
        return str(self.header(utf8=True))


def _idna(domain: str) -> str:
    if domain.isascii() or domain.startswith("["):
        return domain
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError as e:
        raise InvalidAddress(f"the domain {domain!r} cannot be IDNA-encoded: {e}") from None


AddressLike = str | tuple[str, str] | Address | MessageAddress


def parse_address(value: AddressLike) -> MessageAddress:
    """Check one address: ``"a@b.example"``, ``"Name <a@b.example>"``, ``(name, addr)``.

    A CR or LF is :class:`HeaderInjection`; anything that is not one well-formed
    address is :class:`InvalidAddress`, whose message names it.
    """
    if isinstance(value, MessageAddress):
        return value
    if isinstance(value, Address):
        name, spec = value.display_name, value.addr_spec
    elif isinstance(value, tuple) and len(value) == 2:
        name, spec = value
    elif isinstance(value, str):
        _no_newline("an address", value)
        named = _NAMED_RE.match(value)
        if named:
            name, spec = named.groups()
            if len(name) >= 2 and name[0] == name[-1] == '"':
                name = re.sub(r"\\(.)", r"\1", name[1:-1])
        else:
            name, spec = "", value.strip()
    else:
        raise InvalidAddress(f"an address must be a string or (name, address), got {value!r}")
    if not isinstance(name, str) or not isinstance(spec, str):
        raise InvalidAddress(f"an address must be made of strings, got {value!r}")
    _no_newline("a display name", name)
    _no_newline("an address", spec)
    local, at, domain = spec.rpartition("@")
    if not at or not _LOCAL_RE.match(local) or not _DOMAIN_RE.match(domain) or len(spec) > 254:
        raise InvalidAddress(f"malformed e-mail address: {spec!r} (in {value!r})")
    return MessageAddress(name.strip(), local, domain)


def _split_list(value: str) -> list[str]:
    """Split ``"a@x, B <b@y>"`` on the commas outside quotes and angle brackets."""
    parts, current, quoted, angle, escaped = [], [], False, False, False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "<" and not quoted:
            angle = True
        elif char == ">" and not quoted:
            angle = False
        elif char == "," and not quoted and not angle:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [part for part in parts if part.strip()]


def parse_addresses(value: AddressLike | Iterable[AddressLike] | None) -> list[MessageAddress]:
    """A list of checked addresses from one address, a comma-separated string, or an iterable."""
    if value is None:
        return []
    if isinstance(value, str):
        return [parse_address(part) for part in _split_list(value)]
    if isinstance(value, (tuple, Address, MessageAddress)) and (
        not isinstance(value, tuple) or (len(value) == 2 and all(isinstance(v, str) for v in value))
    ):
        return [parse_address(value)]  # type: ignore[arg-type]
    return [parse_address(item) for item in value]  # type: ignore[union-attr]


@dataclass(frozen=True)
class Attachment:
    """A file attached (or embedded, when ``cid`` is set) to a message, as bytes."""

    filename: str | None
    content: bytes
    maintype: str
    subtype: str
    charset: str | None = None
    cid: str | None = None


# email policies, made once: (utf8, linesep) -> policy
_POLICIES = {
    (utf8, linesep): email_policy.SMTP.clone(utf8=utf8, linesep=linesep)
    for utf8 in (False, True)
    for linesep in ("\r\n", "\n")
}


def _mime_type(mime: str | None, filename: str | None, default: str) -> tuple[str, str]:
    if mime is None and filename:
        mime = mimetypes.guess_type(filename)[0]
    mime = mime or default
    _no_newline("a MIME type", mime)
    maintype, slash, subtype = mime.partition("/")
    if not slash or not maintype or not subtype or " " in mime:
        raise ValueError(f"malformed MIME type: {mime!r}")
    return maintype.lower(), subtype.lower()


def _text_cte(text: str) -> str:
    if text.isascii() and all(len(line) <= 998 for line in text.splitlines()):
        return "7bit"
    return "quoted-printable"


class Message:
    """An e-mail message: addresses, subject, text and/or HTML, attachments, headers.

    ``Message(from_addr, to_addrs, subject, message, mime="text/plain", charset="utf-8")``
    is cyclone 1.x's signature; ``message`` becomes the HTML body when ``mime`` is
    ``text/html``. The keywords add the rest: ``text``, ``html`` (both give
    multipart/alternative), ``cc``, ``bcc`` (envelope only, never a header),
    ``reply_to``, ``headers`` and ``attachments`` (paths). Addresses are checked
    here: a malformed one raises :class:`InvalidAddress`, a CR or LF in any header
    value or address raises :class:`HeaderInjection`.
    """

    def __init__(
        self,
        from_addr: AddressLike,
        to_addrs: AddressLike | Iterable[AddressLike] | None = None,
        subject: str = "",
        message: str | None = None,
        mime: str = "text/plain",
        charset: str = "utf-8",
        *,
        text: str | None = None,
        html: str | None = None,
        cc: AddressLike | Iterable[AddressLike] | None = None,
        bcc: AddressLike | Iterable[AddressLike] | None = None,
        reply_to: AddressLike | Iterable[AddressLike] | None = None,
        headers: Mapping[str, str] | None = None,
        attachments: Iterable[str | os.PathLike[str]] = (),
    ) -> None:
        self.from_addr = parse_address(from_addr)
        self.to = parse_addresses(to_addrs)
        self.cc = parse_addresses(cc)
        self.bcc = parse_addresses(bcc)
        self.reply_to = parse_addresses(reply_to)
        self.subject = _no_newline("the subject", subject)
        self.charset = charset
        self.text = text
        self.html = html
        if message is not None:
            if _mime_type(mime, None, "text/plain") == ("text", "html"):
                self.html = message
            else:
                self.text = message
        self.attachments: list[Attachment] = []
        self.headers: list[tuple[str, str]] = []
        self.message_id = make_msgid(domain=_idna(self.from_addr.domain).strip("[]"))
        for name, value in (headers or {}).items():
            self.add_header(name, value)
        for path in attachments:
            self.attach(os.fspath(path))

    # -- cyclone 1.x's methods, kept ---------------------------------------------------

    def attach(
        self,
        filename: str,
        mime: str | None = None,
        charset: str | None = None,
        content: bytes | str | None = None,
    ) -> None:
        """Attach a file: read from the path ``filename``, or ``content`` named ``filename``.

        ``mime`` defaults to a guess from the name (else application/octet-stream);
        str content is encoded with ``charset`` (default UTF-8).
        """
        name, data, maintype, subtype, charset = self._part(filename, mime, charset, content)
        self.attachments.append(Attachment(name, data, maintype, subtype, charset))

    def add_header(self, key: str, value: str) -> None:
        """Add a header (``Message-ID`` and ``Date`` replace the ones set by default)."""
        if not isinstance(key, str) or not _HEADER_NAME_RE.match(key):
            raise HeaderInjection(f"malformed header name: {key!r}")
        if key.lower() in _MANAGED:
            raise ValueError(f"the {key} header comes from the Message's own arguments")
        value = _no_newline(f"the {key} header", str(value))
        if key.lower() == "message-id":
            self.message_id = value
            return
        self.headers.append((key, value))

    def render(self) -> str:
        """The whole message as text (RFC 2047 headers, CRLF line ends)."""
        return self.as_bytes().decode("ascii", "replace")

    # -- the rest of the API -----------------------------------------------------------

    def embed(
        self,
        filename: str,
        mime: str | None = None,
        content: bytes | None = None,
        cid: str | None = None,
    ) -> str:
        """Add an inline image (or other part) for the HTML body; returns its Content-ID.

        Reference it as ``<img src="cid:{returned id}">``.
        """
        name, data, maintype, subtype, _ = self._part(filename, mime, None, content)
        if cid is None:
            cid = make_msgid(domain=_idna(self.from_addr.domain).strip("[]"))[1:-1]
        _no_newline("a Content-ID", cid)
        if "<" in cid or ">" in cid:
            raise ValueError(f"give the Content-ID without angle brackets: {cid!r}")
        self.attachments.append(Attachment(name, data, maintype, subtype, None, cid))
        return cid

    @property
    def to_addrs(self) -> list[str]:
        """Every envelope recipient (to, cc and bcc), without duplicates."""
        seen: dict[str, None] = {}
        for address in (*self.to, *self.cc, *self.bcc):
            seen.setdefault(address.addr_spec, None)
        return list(seen)

    @property
    def needs_smtputf8(self) -> bool:
        """Whether an envelope address cannot be sent without SMTPUTF8."""
        return any(a.needs_smtputf8 for a in (self.from_addr, *self.to, *self.cc, *self.bcc))

    @property
    def wants_utf8(self) -> bool:
        """Whether a header or address has non-ASCII text (sent as UTF-8 with SMTPUTF8)."""
        texts = [self.subject, *(value for _, value in self.headers)]
        for a in (self.from_addr, *self.to, *self.cc, *self.reply_to):
            texts += [a.display_name, a.local, a.domain]
        return not all(text.isascii() for text in texts)

    def to_email(self, utf8: bool = False) -> EmailMessage:
        """Build the ``EmailMessage`` (Bcc left out); ``utf8`` keeps Unicode domains."""
        msg = EmailMessage(policy=_POLICIES[utf8, "\r\n"])
        msg["From"] = self.from_addr.header(utf8)
        for name, addresses in (("To", self.to), ("Cc", self.cc), ("Reply-To", self.reply_to)):
            if addresses:
                msg[name] = [a.header(utf8) for a in addresses]
        msg["Subject"] = self.subject
        dates = [value for key, value in self.headers if key.lower() == "date"]
        msg["Date"] = dates[-1] if dates else format_datetime(localtime())
        msg["Message-ID"] = self.message_id
        for key, value in self.headers:
            if key.lower() != "date":
                msg[key] = value
        self._fill_body(msg)
        return msg

    def as_bytes(self, utf8: bool = False, linesep: str = "\r\n") -> bytes:
        """The message as it goes on the wire."""
        policy = _POLICIES.get((utf8, linesep)) or _POLICIES[utf8, "\r\n"].clone(linesep=linesep)
        return self.to_email(utf8).as_bytes(policy=policy)

    def __repr__(self) -> str:
        return f"<Message from {self.from_addr.addr_spec} to {', '.join(self.to_addrs)}>"

    # -- building ----------------------------------------------------------------------

    def _part(
        self, filename: str, mime: str | None, charset: str | None, content: bytes | str | None
    ) -> tuple[str, bytes, str, str, str | None]:
        if not isinstance(filename, str):
            filename = os.fspath(filename)
        if content is None:
            with open(filename, "rb") as f:
                content = f.read()
            filename = os.path.basename(filename)
        _no_newline("a file name", filename)
        maintype, subtype = _mime_type(mime, filename, "application/octet-stream")
        if isinstance(content, str):
            charset = charset or "utf-8"
            content = content.encode(charset)
        elif not isinstance(content, (bytes, bytearray, memoryview)):
            kind = type(content).__name__
            raise TypeError(f"attachment content must be bytes or str, got {kind}")
        return filename, bytes(content), maintype, subtype, charset

    def _fill_body(self, msg: EmailMessage) -> None:
        text, html, charset = self.text, self.html, self.charset
        if text is None and html is None:
            text = ""
        if text is not None:
            msg.set_content(text, subtype="plain", charset=charset, cte=_text_cte(text))
            if html is not None:
                msg.add_alternative(html, subtype="html", charset=charset, cte=_text_cte(html))
        else:
            msg.set_content(html, subtype="html", charset=charset, cte=_text_cte(html))
        inline = [a for a in self.attachments if a.cid is not None]
        if inline:
            body = msg.get_body(("html",)) if html is not None else None
            target = body if isinstance(body, EmailMessage) else msg
            for a in inline:
                target.add_related(
                    a.content, a.maintype, a.subtype, cte="base64", disposition="inline",
                    filename=a.filename, cid=f"<{a.cid}>",
                )  # fmt: skip
        for a in self.attachments:
            if a.cid is None:
                params: dict[str, Any] = {"charset": a.charset} if a.charset else {}
                msg.add_attachment(
                    a.content, a.maintype, a.subtype, cte="base64", filename=a.filename,
                    params=params,
                )  # fmt: skip
