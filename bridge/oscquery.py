"""OSCQuery server: the bridge's address space as HTTP JSON, plus WebSocket streaming.

Follows the OSCQuery proposal (Vidvox): ``GET /path`` returns the node with FULL_PATH,
DESCRIPTION, ACCESS, TYPE, VALUE, RANGE, UNIT, OVERLOADS and CONTENTS (children);
``GET /path?ATTR`` returns just ``{"ATTR": ...}``; ``GET /?HOST_INFO`` describes the OSC
server (name, OSC and WebSocket ports, transport, supported extensions). Errors: 404 for
an unknown path, 400 for an unknown attribute, 204 (no body, no Content-Length) for an
attribute the node does not have, 405 for any method but GET/HEAD.

The tree holds values as leaves only (a node with CONTENTS has no TYPE or VALUE): strict
clients such as python-oscquery refuse a tree where a node is both, and Chataigne turns
such a node into a folder and drops its value. Deprecated input aliases are not listed.

On the same port, a WebSocket client may send ``{"COMMAND": "LISTEN", "DATA": path}`` (and
``IGNORE``) as text; value changes of that address then arrive as binary OSC packets. It
may also send binary OSC packets, handled exactly like UDP input.

Everything is generated from the :class:`~bridge.registry.ParamRegistry`, so Chataigne,
ossia score or TouchDesigner's OSCQuery component see every parameter the OSC port accepts.
The server runs its own asyncio loop on a thread; the rest of the daemon stays threaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import threading
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from bridge.controller import Sender
from bridge.feedback import ConnectionTarget, FeedbackHub
from bridge.osc_codec import OscValue
from bridge.registry import Access, ParamRegistry, ParamSpec
from bridge.security import AllowList, RateLimiter

log = logging.getLogger("bridge.oscquery")
_ws_log = logging.getLogger("bridge.oscquery.ws")
_ws_log.setLevel(logging.WARNING)  # websockets logs every HTTP request at INFO

ATTRIBUTES = frozenset(
    {"FULL_PATH", "CONTENTS", "TYPE", "DESCRIPTION", "ACCESS", "VALUE", "RANGE", "UNIT"}
    | {"OVERLOADS", "HOST_INFO"}
)
EXTENSIONS = {
    "TYPE": True,
    "ACCESS": True,
    "VALUE": True,
    "RANGE": True,
    "DESCRIPTION": True,
    "UNIT": True,
    "OVERLOADS": True,
    "LISTEN": True,
    "TAGS": False,
    "EXTENDED_TYPE": False,
    "CLIPMODE": False,
    "CRITICAL": False,
    "HTML": False,
    "PATH_CHANGED": False,
}

ReadValue = Callable[[ParamSpec], tuple[OscValue, ...] | None]
PacketHandler = Callable[[bytes, Sender], None]


class Namespace:
    """The OSCQuery JSON view of a registry (containers derived from the paths)."""

    def __init__(self, registry: ParamRegistry, read_value: ReadValue) -> None:
        self.registry, self.read_value = registry, read_value
        self.children: dict[str, list[str]] = {"/": []}
        for spec in registry:
            parts = spec.path.strip("/").split("/")
            parent = "/"
            for i in range(len(parts)):
                path = "/" + "/".join(parts[: i + 1])
                if path not in self.children:
                    self.children[path] = []
                    self.children[parent].append(path)
                parent = path

    def exists(self, path: str) -> bool:
        return path in self.children

    def node(self, path: str) -> dict[str, Any]:
        spec = self.registry.by_path(path)
        out: dict[str, Any] = {"FULL_PATH": path}
        if spec is None:
            out["DESCRIPTION"] = "LatentScore" if path != "/" else "root"
            out["ACCESS"] = int(Access.NONE)
        else:
            out.update(self.method(spec))
        if self.children[path]:
            out["CONTENTS"] = {c.rsplit("/", 1)[1]: self.node(c) for c in self.children[path]}
        return out

    def method(self, spec: ParamSpec) -> dict[str, Any]:
        out: dict[str, Any] = {"DESCRIPTION": spec.description, "ACCESS": int(spec.access)}
        if spec.type_tag:
            out["TYPE"] = spec.type_tag
        rng = self.range(spec)
        if rng is not None:
            out["RANGE"] = rng
        if spec.unit:
            out["UNIT"] = [spec.unit]
        value = self.value(spec)
        out["VALUE"] = value if value is not None else placeholder(spec)
        field = spec.field
        if spec.role == "field" and field is not None:  # what else the address takes
            if field.ordered:
                overload = {"TYPE": "s", "RANGE": [{"VALS": [str(v) for v in field.labels]}]}
            else:
                overload = {"TYPE": "i", "RANGE": [{"MIN": 0, "MAX": len(field.labels) - 1}]}
            out["OVERLOADS"] = [overload]
        return out

    @staticmethod
    def range(spec: ParamSpec) -> list[dict[str, Any]] | None:
        if spec.values is not None:
            return [{"VALS": list(spec.values)}]
        if spec.minimum is not None and spec.maximum is not None:
            one = {"MIN": spec.minimum, "MAX": spec.maximum}
            return [dict(one) for _ in spec.type_tag]
        return None

    def value(self, spec: ParamSpec) -> list[OscValue] | None:
        if not spec.readable or spec.role == "stream":
            return None
        value = self.read_value(spec)
        return list(value) if value is not None else None

    def attribute(self, path: str, attr: str) -> tuple[HTTPStatus, dict[str, Any] | None]:
        """``GET path?ATTR``: the attribute alone, or the status that explains its absence."""
        if attr not in ATTRIBUTES:
            return HTTPStatus.BAD_REQUEST, None
        spec = self.registry.by_path(path)
        if attr == "VALUE" and (spec is None or not spec.readable):
            return HTTPStatus.NO_CONTENT, None
        if attr == "VALUE" and spec is not None and spec.role == "stream":
            return HTTPStatus.OK, {}  # readable, but no value to report (it streams)
        node = self.node(path)
        if attr not in node:
            return HTTPStatus.NO_CONTENT, None
        return HTTPStatus.OK, {attr: node[attr]}


_NEUTRAL: dict[str, OscValue] = {"f": 0.0, "i": 0, "s": "", "I": None, "T": True, "F": False}


def placeholder(spec: ParamSpec) -> list[OscValue]:
    """A VALUE for a method with nothing to read (write-only or a stream), by its TYPE.

    python-oscquery refuses a method node without VALUE ("a node is a container or has
    values"), and Chataigne creates a parameter's type from it. ACCESS tells readers it is
    not a current value; ``GET path?VALUE`` still answers 204 (write-only) or ``{}``.
    """
    return [_NEUTRAL.get(tag, 0) for tag in spec.type_tag] or [None]


class OscQueryServer:
    """HTTP + WebSocket OSCQuery endpoint (see the module docstring)."""

    def __init__(
        self,
        host: str,
        port: int,
        namespace: Namespace,
        host_info: Callable[[], dict[str, Any]],
        hub: FeedbackHub,
        on_packet: PacketHandler,
        allow: AllowList,
    ) -> None:
        self.host, self._requested_port = host, port
        self.namespace, self._host_info, self.hub = namespace, host_info, hub
        self._on_packet, self._allow = on_packet, allow
        self._ids = itertools.count(1)
        self._log_rate = RateLimiter(5.0)
        self._loop = asyncio.new_event_loop()
        self._server: Server | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="bridge-oscquery", daemon=True)
        self.port = 0

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10.0)
        if self._startup_error is not None:
            raise self._startup_error

    def close(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._shutdown)
            self._thread.join(3.0)

    def _shutdown(self) -> None:
        self._loop.create_task(self._close_all())

    async def _close_all(self) -> None:
        """Close every WebSocket with a close frame (1001 going away), then stop the loop."""
        try:
            if self._server is not None:
                self._server.close(close_connections=True)
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
        except (TimeoutError, OSError):
            log.debug("OSCQuery clients did not all close in time")
        finally:
            self._loop.stop()

    async def _open(self) -> Server:
        return await serve(
            self._handle_ws,
            self.host,
            self._requested_port,
            process_request=self._process_request,
            server_header="LatentScore-bridge",
            max_size=65536,
            logger=_ws_log,
        )

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._server = self._loop.run_until_complete(self._open())
            self.port = int(next(iter(self._server.sockets)).getsockname()[1])
        except BaseException as exc:
            self._startup_error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            with contextlib.suppress(Exception):
                self._loop.run_until_complete(self._server.wait_closed())
            self._loop.close()

    # --- HTTP ----------------------------------------------------------------------------
    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        host = str(connection.remote_address[0])
        if not self._allow.allows(host):
            return self._json(connection, HTTPStatus.FORBIDDEN, {"ERROR": "not allowed"})
        if str(getattr(request, "method", "GET")).upper() not in ("GET", "HEAD"):
            return self._method_not_allowed(connection)
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return None  # go on with the WebSocket handshake
        return self._http(connection, request.path)

    def _method_not_allowed(self, connection: ServerConnection) -> Response:
        response = self._json(
            connection, HTTPStatus.METHOD_NOT_ALLOWED, {"ERROR": "only GET is supported"}
        )
        response.headers["Allow"] = "GET, HEAD"
        return response

    def _http(self, connection: ServerConnection, target: str) -> Response:
        url = urlsplit(target)
        path = unquote(url.path).rstrip("/") or "/"
        query = url.query.split("&", 1)[0].split("=", 1)[0].upper()
        if query == "HOST_INFO":
            return self._json(connection, HTTPStatus.OK, self._host_info())
        if not self.namespace.exists(path):
            return self._json(connection, HTTPStatus.NOT_FOUND, None)
        if not query:
            return self._json(connection, HTTPStatus.OK, self.namespace.node(path))
        status, body = self.namespace.attribute(path, query)
        return self._json(connection, status, body)

    @staticmethod
    def _json(
        connection: ServerConnection, status: HTTPStatus, body: dict[str, Any] | None
    ) -> Response:
        text = json.dumps(body) if body is not None else ""
        response = connection.respond(status, text)
        headers = Headers(response.headers)
        del headers["Content-Type"]  # Headers is multi-valued: setting would add a second one
        if status == HTTPStatus.NO_CONTENT:  # RFC 9110: a 204 has no body and no length
            del headers["Content-Length"]
        else:
            headers["Content-Type"] = "application/json" if body is not None else "text/plain"
        headers["Access-Control-Allow-Origin"] = "*"
        return Response(response.status_code, response.reason_phrase, headers, response.body)

    # --- WebSocket -----------------------------------------------------------------------
    async def _handle_ws(self, ws: ServerConnection) -> None:
        host, port = str(ws.remote_address[0]), int(ws.remote_address[1])
        key = ("ws", host, port, next(self._ids))
        loop = self._loop

        def send(packet: bytes) -> bool:
            if ws.state.name in ("CLOSING", "CLOSED"):
                return False
            loop.call_soon_threadsafe(lambda: loop.create_task(_safe_send(ws, packet)))
            return True

        target = ConnectionTarget(key, send, keep_listening=True)
        self.hub.add(target)

        def as_target() -> ConnectionTarget:
            return target  # an OSC /subscribe over the socket: the hub marks it subscribed

        sender = Sender(key, host, port, "ws", send, as_target)
        try:
            async for message in ws:
                if isinstance(message, bytes):
                    self._on_packet(message, sender)
                else:
                    self._command(message, target)
        except ConnectionClosed:
            pass
        finally:
            self.hub.remove(key)

    def _command(self, text: str, target: ConnectionTarget) -> None:
        try:
            command = json.loads(text)
            name, data = str(command["COMMAND"]).upper(), str(command["DATA"])
        except (ValueError, KeyError, TypeError, RecursionError):
            if self._log_rate.allow("ws"):
                log.warning("ignoring a malformed OSCQuery WebSocket command: %.120s", text)
            return
        if name == "LISTEN" and self.namespace.registry.by_path(data) is not None:
            target.listens.add(data)  # (bounded: only registry paths)
        elif name == "IGNORE":
            target.listens.discard(data)
        elif self._log_rate.allow("ws"):
            log.warning("ignoring OSCQuery command %.40s %.120s", name, data)


async def _safe_send(ws: ServerConnection, packet: bytes) -> None:
    with contextlib.suppress(ConnectionClosed):
        await ws.send(packet)
