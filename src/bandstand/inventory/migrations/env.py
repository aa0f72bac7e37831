from bandstand.inventory.models import InventoryBase
from bandstand.platform.migrations import run_env

run_env(InventoryBase.metadata)
