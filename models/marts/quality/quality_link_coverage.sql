-- One row per team and UTC month with any activity: how well the links behind the metrics hold — merged pull
-- requests linked to an issue and to a deployment (by merge month), successful production deployments that
-- shipped changes (by deployment month), incidents attributed to a deployment (by start month).
with

changes as (
    select * from {{ ref('fct_changes') }}
),

issue_pull_requests as (
    select * from {{ ref('int_issue_pull_requests') }}
),

deployments as (
    select * from {{ ref('fct_deployments') }}
),

incidents as (
    select * from {{ ref('fct_incidents') }}
),

linked_pull_requests as (
    select distinct pull_request_key
    from issue_pull_requests
),

change_metrics as (
    select
        changes.team,
        {{ period_start('month', 'changes.merged_at') }} as month_start,
        count(*) as merged_prs,
        sum(case when linked_pull_requests.pull_request_key is not null then 1 else 0 end) as prs_linked_to_issue,
        sum(case when changes.deployment_id is not null then 1 else 0 end) as prs_linked_to_deployment
    from changes
    left join linked_pull_requests
        on changes.pull_request_key = linked_pull_requests.pull_request_key
    group by changes.team, {{ period_start('month', 'changes.merged_at') }}
),

-- the DORA deployments: successful production deployments
deployment_metrics as (
    select
        team,
        {{ period_start('month', 'deployed_at') }} as month_start,
        count(*) as deployments,
        sum(case when change_count > 0 then 1 else 0 end) as deployments_with_changes
    from deployments
    where is_production
        and status = 'success'
        and deployed_at is not null
    group by team, {{ period_start('month', 'deployed_at') }}
),

incident_metrics as (
    {{ monthly_incident_counts('incidents') }}
),

team_months as (
    select team, month_start from change_metrics
    union
    select team, month_start from deployment_metrics
    union
    select team, month_start from incident_metrics
),

counted as (
    select
        team_months.team,
        team_months.month_start,
        coalesce(change_metrics.merged_prs, 0) as merged_prs,
        coalesce(change_metrics.prs_linked_to_issue, 0) as prs_linked_to_issue,
        coalesce(change_metrics.prs_linked_to_deployment, 0) as prs_linked_to_deployment,
        coalesce(deployment_metrics.deployments, 0) as deployments,
        coalesce(deployment_metrics.deployments_with_changes, 0) as deployments_with_changes,
        coalesce(incident_metrics.incidents, 0) as incidents,
        coalesce(incident_metrics.incidents_attributed, 0) as incidents_attributed
    from team_months
    left join change_metrics
        on team_months.team = change_metrics.team
        and team_months.month_start = change_metrics.month_start
    left join deployment_metrics
        on team_months.team = deployment_metrics.team
        and team_months.month_start = deployment_metrics.month_start
    left join incident_metrics
        on team_months.team = incident_metrics.team
        and team_months.month_start = incident_metrics.month_start
),

final as (
    select
        -- ids
        team,
        cast(month_start as date) as month,
        -- pull requests
        cast(merged_prs as bigint) as merged_prs,
        cast(prs_linked_to_issue as bigint) as prs_linked_to_issue,
        case when merged_prs > 0 then cast(prs_linked_to_issue as {{ type_double() }}) / merged_prs end as pr_issue_link_share,
        cast(prs_linked_to_deployment as bigint) as prs_linked_to_deployment,
        case
            when merged_prs > 0 then cast(prs_linked_to_deployment as {{ type_double() }}) / merged_prs
        end as pr_deployment_link_share,
        -- deployments
        cast(deployments as bigint) as deployments,
        cast(deployments_with_changes as bigint) as deployments_with_changes,
        case
            when deployments > 0 then cast(deployments_with_changes as {{ type_double() }}) / deployments
        end as deployment_change_share,
        -- incidents
        cast(incidents as bigint) as incidents,
        cast(incidents_attributed as bigint) as incidents_attributed,
        case
            when incidents > 0 then cast(incidents_attributed as {{ type_double() }}) / incidents
        end as incident_attribution_share
    from counted
)

select * from final
