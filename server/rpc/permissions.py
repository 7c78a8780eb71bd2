"""The one table of who may call what: every RPC's least role, and whether it changes
something (and so writes an audit entry). ``tests/test_roles.py`` walks it: every RPC of every
CTS service is here, and every RPC and every role is allowed or PERMISSION_DENIED as declared."""

from __future__ import annotations

from dataclasses import dataclass

from server.access.roles import Role


@dataclass(frozen=True, slots=True)
class Rule:
    role: Role
    changes: bool = False  # writes an audit entry


READ = Rule(Role.VIEWER)
OPERATE = Rule(Role.OPERATOR, changes=True)
ADMINISTER = Rule(Role.ADMIN, changes=True)

_SERVICES: dict[str, dict[str, Rule]] = {
    "cts.connection.v1.ConnectionService": {
        "CreateConnection": ADMINISTER,
        "GetConnection": READ,
        "ListConnections": READ,
        "UpdateConnection": ADMINISTER,  # name, exchange and credentials
        "DeleteConnection": ADMINISTER,
        "ToggleConnection": OPERATE,
        "ActivateConnection": OPERATE,
        "DeactivateConnection": OPERATE,
        "SetLiveTrade": ADMINISTER,
        "GetTradingSettings": READ,
        "UpdateTradingSettings": OPERATE,
        "SetPresetType": OPERATE,
        "TestConnection": OPERATE,
        "BatchTestConnections": OPERATE,
        "GetBatchTest": READ,
        "WatchConnectionTests": READ,
        "GetConnectionHealth": READ,
        "WatchConnections": READ,
    },
    "cts.engine.v1.EngineService": {
        "StartEngine": OPERATE,
        "StopEngine": OPERATE,
        "PauseEngine": OPERATE,
        "ResumeEngine": OPERATE,
        "GetEngineStatus": READ,
        "ListEngineStatuses": READ,
        "WatchEngines": READ,
        "GetCoordinatorHealth": READ,
        "TestEngine": OPERATE,
        "GetEngineProgression": READ,
        "ListPositions": READ,
        "WatchPositions": READ,
        "ClosePosition": OPERATE,
    },
    "cts.connection.v1.AccountService": {
        "ListAccountSummaries": READ,
        "WatchAccountSummaries": READ,
        "GetPnlHistory": READ,
    },
    "cts.monitoring.v1.MarketService": {
        "ListPrices": READ,
        "WatchPrices": READ,
    },
    "cts.monitoring.v1.MonitoringService": {
        "ListLogs": READ,
        "StreamLogs": READ,
        "WriteLog": OPERATE,
        "GetSystemStatus": READ,
        "WatchSystemStatus": READ,
        "ListConnectionStatuses": READ,
        "GetConnectionStatus": READ,
        "GetComprehensiveReport": READ,
        "VerifyStartup": READ,
        "GetStructureMetrics": READ,
    },
    "cts.access.v1.AccessService": {
        "GetCaller": READ,
        "ListAuditEntries": Rule(Role.ADMIN),
    },
}

RULES: dict[str, Rule] = {
    f"/{service}/{method}": rule
    for service, methods in _SERVICES.items()
    for method, rule in methods.items()
}
# Anything not declared needs an admin: a new RPC is closed until someone declares it.
UNDECLARED = Rule(Role.ADMIN, changes=True)


def rule_of(method: str) -> Rule:
    return RULES.get(method, UNDECLARED)
