-- The organisation's monthly deployments add up to the successful production deployments in fct_deployments,
-- and equal the sum over teams.
with

deployments as (
    select * from {{ ref('fct_deployments') }}
),

org as (
    select * from {{ ref('dora_org_monthly') }}
),

teams as (
    select * from {{ ref('dora_team_monthly') }}
),

totals as (
    select
        (select count(*) from deployments where is_production and status = 'success' and deployed_at is not null)
            as fact_deployments,
        (select coalesce(sum(deployments), 0) from org) as org_deployments,
        (select coalesce(sum(deployments), 0) from teams) as team_deployments
)

select *
from totals
where fact_deployments <> org_deployments
    or org_deployments <> team_deployments
