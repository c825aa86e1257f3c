-- Run once by the postgres image on a fresh data volume (/docker-entrypoint-initdb.d), or by hand:
--   psql -U postgres -f infra/postgres/init.sql
-- Creates Baton's database. Tables are created by the migrations of libs/persistence, which the
-- services run at start; nothing else belongs here.
SELECT 'CREATE DATABASE baton'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'baton')\gexec

COMMENT ON DATABASE baton IS 'Baton workflow orchestrator: execution history, checkpoints, rules, schedules';
