"""企业信用信息公示系统 (national and provincial): SOAP over zeep with the shipped WSDL.

`adapter: adapters.enterprise_publicity:factory`. `service.wsdl` + `service.xsd` are the
contract (the simulator serves these very files), `adapter` the zeep client, `simulator` a
local stand-in (`gateway simulate enterprise-publicity`).
"""

from adapters.enterprise_publicity.adapter import EnterprisePublicityDestination, factory

__all__ = ["EnterprisePublicityDestination", "factory"]
