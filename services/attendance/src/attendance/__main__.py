"""python -m attendance migrate|api|consumers|relay"""

from attendance.config import AttendanceSettings
from qosym_chassis.cli import service_main

service_main(
    "attendance", AttendanceSettings, "attendance.entrypoints.api:create_app", "attendance.entrypoints.consumers"
)
