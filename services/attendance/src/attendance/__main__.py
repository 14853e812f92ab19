"""python -m attendance migrate|api|consumers|relay"""

from qosym_chassis.cli import service_main

from attendance.config import AttendanceSettings

service_main(
    "attendance", AttendanceSettings, "attendance.entrypoints.api:create_app", "attendance.entrypoints.consumers"
)
