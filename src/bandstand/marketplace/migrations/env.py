from bandstand.marketplace.models import MarketplaceBase
from bandstand.platform.migrations import run_env

run_env(MarketplaceBase.metadata)
