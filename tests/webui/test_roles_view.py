"""The dashboard shows each role only what it may do, and admins the audit trail."""

from __future__ import annotations

from cts.connection.v1 import connection_pb2 as pb
from cts.connection.v1.connection_pb2_grpc import ConnectionServiceStub as Stub
from nicegui.testing.user import User

from server.access.roles import Role
from server.access.tokens import create_token
from server.storage.database import Database
from tests.conftest import auth
from tests.support.server_thread import ServerThread
from tests.webui.test_dashboard import sign_in


def token_for(server: ServerThread, role: Role) -> str:
    db = Database(server.settings.resolved_database_url, threads=1)
    try:
        token, _ = db.write_now(lambda s: create_token(s, f"dashboard-{role.word}", role))
    finally:
        db.close()
    return token


async def test_a_viewer_sees_connections_but_no_action(
    user: User, dashboard_server: ServerThread
) -> None:
    await sign_in(user, token_for(dashboard_server, Role.VIEWER))
    await user.should_see(marker="card-logs")
    for marker in ("add-connection", "batch-test", "card-test", "card-edit", "card-delete"):
        await user.should_not_see(marker=marker)
    switches = (
        user.find(marker="card-enabled").elements | user.find(marker="card-live-trade").elements
    )
    assert switches and all(not s.enabled for s in switches)
    await user.should_not_see("Audit")
    await user.open("/live-trading")
    await user.should_not_see(marker="engine-start")


async def test_an_operator_tests_but_does_not_edit(
    user: User, dashboard_server: ServerThread
) -> None:
    await sign_in(user, token_for(dashboard_server, Role.OPERATOR))
    await user.should_see(marker="card-test")
    await user.should_see(marker="batch-test")
    for marker in ("add-connection", "card-edit", "card-delete"):
        await user.should_not_see(marker=marker)
    assert all(s.enabled for s in user.find(marker="card-enabled").elements)
    assert all(not s.enabled for s in user.find(marker="card-live-trade").elements)


async def test_an_admin_reads_the_audit_trail(user: User, stub: Stub) -> None:
    await sign_in(user)
    await user.should_see(marker="add-connection")
    listed = await stub.ListConnections(pb.ListConnectionsRequest(), metadata=auth())
    await stub.ToggleConnection(  # a change to audit
        pb.ToggleConnectionRequest(id=listed.connections[0].id), metadata=auth()
    )
    await user.open("/audit")
    await user.should_see(marker="audit-table", retries=50)
    await user.should_see("ToggleConnection", retries=50)
    await user.should_see("admin")
