#!/bin/sh
# First start of the PostgreSQL container: per service an owner role (runs `migrate`), an app role (DML only) and a
# database only those two may connect to. Passwords come from the environment (deploy/compose/.env), never a file here.
set -eu
for service in $QOSYM_SERVICES; do
    upper=$(echo "$service" | tr '[:lower:]' '[:upper:]')
    owner_password=$(printenv "${upper}_OWNER_DB_PASSWORD")
    app_password=$(printenv "${upper}_APP_DB_PASSWORD")
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
        -v owner="qosym_${service}_owner" -v app="qosym_${service}_app" -v db="qosym_${service}" \
        -v owner_password="$owner_password" -v app_password="$app_password" <<'SQL'
CREATE ROLE :"owner" LOGIN PASSWORD :'owner_password';
CREATE ROLE :"app" LOGIN PASSWORD :'app_password';
CREATE DATABASE :"db" OWNER :"owner";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"owner", :"app";
SQL
done
