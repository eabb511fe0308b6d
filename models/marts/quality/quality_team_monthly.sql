-- One row per team and UTC month with any activity: incidents (by start), production bugs (by creation), bug
-- resolutions and reopenings (by transition), builds (by start). Team attribution: incidents by their
-- service's team, issues by their project's team, builds by their repository's team.
with

incidents as (
    select * from {{ ref('fct_incidents') }}
),

issues as (
    select * from {{ ref('int_issues') }}
),

transitions as (
    select * from {{ ref('int_issue_transitions') }}
),

builds as (
    select * from {{ ref('fct_builds') }}
),

incident_metrics as (
    {{ monthly_incident_counts('incidents') }}
),

-- bugs: issue type matches var `bug_issue_type_pattern`; production bugs: labels match `production_bug_pattern`
bugs as (
    select
        issue_key,
        team,
        created_at,
        done_at,
        {{ matches('labels', var('production_bug_pattern')) }} as is_production_bug
    from issues
    where {{ matches('issue_type', var('bug_issue_type_pattern')) }}
),

bug_transitions as (
    select
        bugs.issue_key,
        bugs.team,
        transitions.transitioned_at,
        case
            when transitions.to_category = 'done' and transitions.from_category <> 'done' then 'resolved'
            when transitions.from_category = 'done' and transitions.to_category in ('todo', 'in_progress')
                then 'reopened'
        end as bug_event
    from bugs
    inner join transitions
        on bugs.issue_key = transitions.issue_key
),

-- a production bug is reported when created; a resolution is a move into a done category from one that is not
-- done (a done bug without any such move in its history, e.g. created done, resolves once at its done date); a
-- reopening is a move from a done category back to a not-done one
bug_events as (
    select issue_key, team, created_at as event_at, 'reported' as bug_event
    from bugs
    where is_production_bug
    union all
    select issue_key, team, transitioned_at, bug_event
    from bug_transitions
    where bug_event is not null
    union all
    select bugs.issue_key, bugs.team, bugs.done_at, 'resolved'
    from bugs
    where bugs.done_at is not null
        and not exists (
            select 1
            from bug_transitions
            where bug_transitions.issue_key = bugs.issue_key
                and bug_transitions.bug_event = 'resolved'
        )
),

bug_event_metrics as (
    select
        team,
        {{ period_start('month', 'event_at') }} as month_start,
        count(distinct case when bug_event = 'reported' then issue_key end) as production_bugs,
        count(distinct case when bug_event = 'resolved' then issue_key end) as bugs_resolved,
        count(distinct case when bug_event = 'reopened' then issue_key end) as bugs_reopened
    from bug_events
    group by team, {{ period_start('month', 'event_at') }}
),

-- builds that ran to a verdict: cancelled, skipped and running builds say nothing about quality
finished_builds as (
    select * from builds
    where status in ('success', 'failure')
),

build_metrics as (
    select
        team,
        {{ period_start('month', 'started_at') }} as month_start,
        count(*) as builds,
        sum(case when status = 'success' then 1 else 0 end) as successful_builds,
        {{ percentile('duration_minutes', 0.5) }} as build_duration_p50_minutes,
        {{ percentile('duration_minutes', 0.9) }} as build_duration_p90_minutes,
        sum(case when is_flaky_rerun then 1 else 0 end) as flaky_reruns
    from finished_builds
    group by team, {{ period_start('month', 'started_at') }}
),

team_months as (
    select team, month_start from incident_metrics
    union
    select team, month_start from bug_event_metrics
    union
    select team, month_start from build_metrics
),

final as (
    select
        -- ids
        team_months.team,
        cast(team_months.month_start as date) as month,
        -- incidents
        cast(coalesce(incident_metrics.incidents, 0) as bigint) as incidents,
        cast(coalesce(incident_metrics.incidents_attributed, 0) as bigint) as incidents_attributed,
        -- bugs
        cast(coalesce(bug_event_metrics.production_bugs, 0) as bigint) as production_bugs,
        cast(coalesce(bug_event_metrics.bugs_resolved, 0) as bigint) as bugs_resolved,
        cast(coalesce(bug_event_metrics.bugs_reopened, 0) as bigint) as bugs_reopened,
        case
            when coalesce(bug_event_metrics.bugs_resolved, 0) > 0
                then cast(coalesce(bug_event_metrics.bugs_reopened, 0) as {{ type_double() }})
                    / bug_event_metrics.bugs_resolved
        end as bug_reopen_rate,
        -- builds
        cast(coalesce(build_metrics.builds, 0) as bigint) as builds,
        cast(coalesce(build_metrics.successful_builds, 0) as bigint) as successful_builds,
        case
            when coalesce(build_metrics.builds, 0) > 0
                then cast(build_metrics.successful_builds as {{ type_double() }}) / build_metrics.builds
        end as build_success_rate,
        cast(build_metrics.build_duration_p50_minutes as {{ type_double() }}) as build_duration_p50_minutes,
        cast(build_metrics.build_duration_p90_minutes as {{ type_double() }}) as build_duration_p90_minutes,
        cast(coalesce(build_metrics.flaky_reruns, 0) as bigint) as flaky_reruns
    from team_months
    left join incident_metrics
        on team_months.team = incident_metrics.team
        and team_months.month_start = incident_metrics.month_start
    left join bug_event_metrics
        on team_months.team = bug_event_metrics.team
        and team_months.month_start = bug_event_metrics.month_start
    left join build_metrics
        on team_months.team = build_metrics.team
        and team_months.month_start = build_metrics.month_start
)

select * from final
