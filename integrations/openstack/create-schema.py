"""Creates neutron-server's database from Neutron's and networking-midonet's models.

Neutron's alembic migrations ALTER constraints, which sqlite cannot; the models describe the same
schema. networking-midonet's BGP-speaker and port-binding models name tables of projects that are
not installed, so they are left out.
Usage: create-schema.py sqlite:////path/neutron.db
"""
import sys

from neutron.db.migration.models import head  # noqa: F401 (imports every Neutron model)
from neutron_lib.db import model_base
import sqlalchemy

from midonet.neutron.db import data_state_db  # noqa: F401
from midonet.neutron.db import data_version_db  # noqa: F401
from midonet.neutron.db import gateway_device  # noqa: F401
from midonet.neutron.db import provider_network_db  # noqa: F401
from midonet.neutron.db import task_db  # noqa: F401

engine = sqlalchemy.create_engine(sys.argv[1])
model_base.BASEV2.metadata.create_all(engine)
