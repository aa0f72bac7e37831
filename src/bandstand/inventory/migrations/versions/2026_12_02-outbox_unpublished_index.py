"""outbox: an index of the unpublished rows in id order, for the relay's claim"""

from bandstand.platform.migrations import unpublished_index_steps

revision = "0002_inventory"
down_revision = "0001_inventory"
upgrade, downgrade = unpublished_index_steps()
