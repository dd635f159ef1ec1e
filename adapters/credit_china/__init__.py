"""信用中国 and its provincial sites (e.g. 信用中国(四川)): REST push with HMAC-signed requests.

`adapter: adapters.credit_china:factory` in `config/destinations.yaml`; one destination per
platform instance. `adapter` is the client, `auth` the request signature (shared with the
simulator), `mapping` how items map to the 双公示 columns, `simulator` a local stand-in
(`gateway simulate credit-china`).
"""

from adapters.credit_china.adapter import CreditChinaDestination, factory

__all__ = ["CreditChinaDestination", "factory"]
