-- One row per team (and `org`): the evidence for each of the seven rungs of the metrics maturity ladder, whether
-- each rung holds, the highest rung reached and the one next step that would lift the team. A rung counts only when
-- every rung below it holds too (a team that looks at dashboards weekly but never set a target is on rung 1, not 4):
-- the ladder describes a loop built step by step, and a higher step without the lower ones is not that loop.
--   1 ad-hoc queries       the team's delivery data is in the warehouse: ≥ `maturity_min_measured_weeks` weeks
--                          of dora_team_weekly (Yardstick cannot see who queries; it sees that there is data to)
--   2 clear targets        ≥ `maturity_min_targets` goals with a target (seeds/metric_targets.csv)
--   3 looped back          due goals exist and ≥ `maturity_share` of them were looked back on (`reviewed_on`)
--   4 looked at regularly  in ≥ `maturity_regular_weeks` of the last `maturity_window_weeks` ISO weeks the team's
--                          report section had ≥ `maturity_min_report_views` views (usage_team_weekly) or the team
--                          recorded a review (seeds/metric_reviews.csv)
--   5 own metrics          ≥ `maturity_min_team_metrics` team-defined metrics (metrics/<team>.yml) added or
--                          changed in the last `maturity_metric_change_days` days
--   6 course-correcting    of its goals off track or missed, ≥ `maturity_course_correction_share` have an
--                          improvement action started on or after the goal's start
--   7 data-driven          ≥ `maturity_data_driven_min_goals` goals and ≥ `maturity_data_driven_share` of them
--                          with a look-back
with

teams as (
    select * from {{ ref('dim_teams') }}
),

goals as (
    select * from {{ ref('goals_status') }}
),

actions as (
    select * from {{ ref('goals_actions') }}
),

dora_weeks as (
    select * from {{ ref('dora_team_weekly') }}
),

usage as (
    select * from {{ ref('usage_team_weekly') }}
),

reviews as (
    select
        team,
        {{ goal_date('review_date') }} as review_date
    from {{ ref('metric_reviews') }}
),

team_metric_definitions as (
    -- the metrics teams defined themselves (metrics/<team>.yml) still defined today, with the day a build first
    -- saw each and the day it first saw its current definition
    select * from {{ ref('int_team_metric_definitions') }}
    where is_current
),

all_teams as (
    select team from teams
    union
    select team from goals
),

window_bounds as (
    select
        cast({{ dbt.dateadd(
            'day', -7 * (var('maturity_window_weeks') | int - 1), period_start('week', as_of_date())
        ) }} as date) as first_week_start,
        {{ as_of_date() }} as last_day
),

-- rung 1: weeks with delivery data (team `org`: any team's)
measured as (
    select
        team,
        count(distinct week_start) as measured_weeks
    from dora_weeks
    group by team
    union all
    select
        'org' as team,
        count(distinct week_start) as measured_weeks
    from dora_weeks
),

-- rungs 2, 3 and 7
goal_evidence as (
    select
        team,
        count(*) as targets,
        sum(case when is_due then 1 else 0 end) as due_targets,
        sum(case when is_due and is_reviewed then 1 else 0 end) as looked_back_due_targets,
        sum(case when is_reviewed then 1 else 0 end) as looked_back_goals,
        sum(case when status = 'met' then 1 else 0 end) as met_targets,
        min(case when is_due and not is_reviewed then due_date end) as first_unreviewed_due_date,
        min(case when not is_due then due_date end) as next_due_date,
        min(case when not is_reviewed then due_date end) as first_unreviewed_goal_due_date
    from goals
    group by team
),

-- rung 4: the weeks of the window in which the team looked at its metrics
looked_weeks as (
    select
        usage.team,
        usage.week_start,
        usage.views,
        0 as reviews
    from usage
    cross join window_bounds
    where usage.week_start >= window_bounds.first_week_start
        and usage.week_start <= window_bounds.last_day
        and usage.views >= {{ var('maturity_min_report_views') }}
    union all
    select
        reviews.team,
        {{ period_start('week', 'reviews.review_date') }} as week_start,
        0 as views,
        1 as reviews
    from reviews
    cross join window_bounds
    where reviews.review_date >= window_bounds.first_week_start
        and reviews.review_date <= window_bounds.last_day
),

look_evidence as (
    select
        team,
        sum(views) as report_views,
        sum(reviews) as reviews,
        count(distinct week_start) as weeks_looked_at
    from looked_weeks
    group by team
),

-- rung 5: team-defined metrics and when they were added or changed
metric_evidence as (
    select
        team_metric_definitions.team,
        count(distinct team_metric_definitions.metric_name) as team_metrics,
        count(distinct case
            when coalesce(team_metric_definitions.last_changed_at, team_metric_definitions.first_defined_at)
                >= cast({{ dbt.dateadd(
                    'day', -1 * var('maturity_metric_change_days'), 'cast(window_bounds.last_day as timestamp)'
                ) }} as date)
                and coalesce(team_metric_definitions.last_changed_at, team_metric_definitions.first_defined_at)
                <= window_bounds.last_day
                then team_metric_definitions.metric_name
        end) as team_metrics_changed,
        max(coalesce(team_metric_definitions.last_changed_at, team_metric_definitions.first_defined_at))
            as last_metric_change_at
    from team_metric_definitions
    cross join window_bounds
    group by team_metric_definitions.team
),

-- rung 6: goals off track (open) or missed (judged), and those with an action started on or after their start
off_track_goals as (
    select
        goals.team,
        goals.goal_id,
        max(case when actions.started_on >= goals.start_date then 1 else 0 end) as is_corrected
    from goals
    left join actions
        on goals.goal_id = actions.goal_id
    where goals.status in ('off_track', 'missed')
    group by goals.team, goals.goal_id
),

correction_evidence as (
    select
        team,
        count(*) as off_track_goals,
        sum(is_corrected) as course_corrected_goals,
        min(case when is_corrected = 0 then goal_id end) as first_uncorrected_goal_id
    from off_track_goals
    group by team
),

action_evidence as (
    select
        team,
        count(*) as actions,
        sum(case when status in ('done_on_time', 'done_late', 'overdue') then 1 else 0 end) as due_actions,
        sum(case when status = 'done_on_time' then 1 else 0 end) as actions_on_time
    from actions
    where team is not null
    group by team
),

evidence as (
    select
        all_teams.team,
        cast(coalesce(measured.measured_weeks, 0) as bigint) as measured_weeks,
        cast(coalesce(goal_evidence.targets, 0) as bigint) as targets,
        cast(coalesce(goal_evidence.due_targets, 0) as bigint) as due_targets,
        cast(coalesce(goal_evidence.looked_back_due_targets, 0) as bigint) as looked_back_due_targets,
        cast(goal_evidence.looked_back_due_targets as {{ type_double() }}) / nullif(goal_evidence.due_targets, 0)
            as looped_back_share,
        cast(coalesce(look_evidence.report_views, 0) as bigint) as report_views,
        cast(coalesce(look_evidence.reviews, 0) as bigint) as reviews,
        cast(coalesce(look_evidence.weeks_looked_at, 0) as bigint) as weeks_looked_at,
        cast(coalesce(metric_evidence.team_metrics, 0) as bigint) as team_metrics,
        cast(coalesce(metric_evidence.team_metrics_changed, 0) as bigint) as team_metrics_changed,
        metric_evidence.last_metric_change_at,
        cast(coalesce(correction_evidence.off_track_goals, 0) as bigint) as off_track_goals,
        cast(coalesce(correction_evidence.course_corrected_goals, 0) as bigint) as course_corrected_goals,
        cast(correction_evidence.course_corrected_goals as {{ type_double() }})
            / nullif(correction_evidence.off_track_goals, 0) as course_correction_share,
        cast(coalesce(goal_evidence.looked_back_goals, 0) as bigint) as looked_back_goals,
        cast(goal_evidence.looked_back_goals as {{ type_double() }}) / nullif(goal_evidence.targets, 0)
            as data_driven_share,
        cast(coalesce(action_evidence.actions, 0) as bigint) as actions,
        cast(action_evidence.actions_on_time as {{ type_double() }}) / nullif(action_evidence.due_actions, 0)
            as actions_on_time_share,
        cast(coalesce(goal_evidence.met_targets, 0) as bigint) as met_targets,
        goal_evidence.first_unreviewed_due_date,
        goal_evidence.next_due_date,
        goal_evidence.first_unreviewed_goal_due_date,
        correction_evidence.first_uncorrected_goal_id
    from all_teams
    left join measured
        on all_teams.team = measured.team
    left join goal_evidence
        on all_teams.team = goal_evidence.team
    left join look_evidence
        on all_teams.team = look_evidence.team
    left join metric_evidence
        on all_teams.team = metric_evidence.team
    left join correction_evidence
        on all_teams.team = correction_evidence.team
    left join action_evidence
        on all_teams.team = action_evidence.team
),

rungs as (
    select
        *,
        measured_weeks >= {{ var('maturity_min_measured_weeks') }} as holds_rung_1,
        targets >= {{ var('maturity_min_targets') }} as holds_rung_2,
        due_targets > 0 and coalesce(looped_back_share >= {{ var('maturity_share') }}, false) as holds_rung_3,
        weeks_looked_at >= {{ var('maturity_regular_weeks') }} as holds_rung_4,
        team_metrics_changed >= {{ var('maturity_min_team_metrics') }} as holds_rung_5,
        off_track_goals > 0
            and coalesce(course_correction_share >= {{ var('maturity_course_correction_share') }}, false)
            as holds_rung_6,
        targets >= {{ var('maturity_data_driven_min_goals') }}
            and coalesce(data_driven_share >= {{ var('maturity_data_driven_share') }}, false) as holds_rung_7
    from evidence
),

ladder as (
    select
        *,
        case
            when not holds_rung_1 then 0
            when not holds_rung_2 then 1
            when not holds_rung_3 then 2
            when not holds_rung_4 then 3
            when not holds_rung_5 then 4
            when not holds_rung_6 then 5
            when not holds_rung_7 then 6
            else 7
        end as maturity_rung
    from rungs
),

final as (
    select
        -- ids
        team,
        -- rung 1: ad-hoc queries
        measured_weeks,
        holds_rung_1,
        -- rung 2: clearly defined targets
        targets,
        holds_rung_2,
        -- rung 3: targets looped back at the finish line
        due_targets,
        looked_back_due_targets,
        looped_back_share,
        holds_rung_3,
        -- rung 4: metrics looked at regularly
        report_views,
        reviews,
        weeks_looked_at,
        holds_rung_4,
        -- rung 5: team-defined metrics added or changed
        team_metrics,
        team_metrics_changed,
        last_metric_change_at,
        holds_rung_5,
        -- rung 6: acting and course-correcting on metrics
        off_track_goals,
        course_corrected_goals,
        course_correction_share,
        holds_rung_6,
        -- rung 7: most projects data-driven
        looked_back_goals,
        data_driven_share,
        holds_rung_7,
        -- follow-through
        actions,
        actions_on_time_share,
        met_targets,
        -- ladder
        cast(maturity_rung as integer) as maturity_rung,
        case maturity_rung
            when 7 then 'data_driven'
            when 6 then 'course_correcting'
            when 5 then 'own_metrics'
            when 4 then 'looked_at_regularly'
            when 3 then 'looped_back'
            when 2 then 'targets_defined'
            when 1 then 'ad_hoc_queries'
            else 'not_measured'
        end as maturity_level,
        -- the one step that would lift the team to the next rung, in words
        case maturity_rung
            when 0 then team || ' has no delivery data yet: map its repositories in seeds/repository_teams.csv'
            when 1 then team || ' has data but no target: set one in seeds/metric_targets.csv'
            when 2 then case
                when due_targets = 0
                    then team || ' set ' || cast(targets as {{ dbt.type_string() }})
                        || case when targets = 1 then ' target' else ' targets' end
                        || ', none due yet: look back at the goal due on '
                        || cast(next_due_date as {{ dbt.type_string() }}) || ' when it falls due'
                else team || ' set ' || cast(targets as {{ dbt.type_string() }})
                    || case when targets = 1 then ' target' else ' targets' end || ' but looked back at '
                    || case when looked_back_due_targets = 0 then 'none'
                        else cast(looked_back_due_targets as {{ dbt.type_string() }}) || ' of '
                            || cast(due_targets as {{ dbt.type_string() }}) end
                    || ': review the goal due on ' || cast(first_unreviewed_due_date as {{ dbt.type_string() }})
            end
            when 3 then team || ' looked at its metrics in ' || cast(weeks_looked_at as {{ dbt.type_string() }})
                || ' of the last {{ var("maturity_window_weeks") }} weeks: review them weekly (record it in'
                || ' seeds/metric_reviews.csv) or open its section of the report'
            when 4 then case
                when team_metrics = 0
                    then team || ' uses only centrally defined metrics: add one for its own problem in metrics/'
                        || team || '.yml'
                else team || '''s own metrics have not changed in {{ var("maturity_metric_change_days") }} days:'
                    || ' adjust them to what it needs to see now'
            end
            when 5 then case
                when off_track_goals = 0
                    then team || ' has no goal off track to act on yet: when one goes off track, file an issue'
                        || ' labelled {{ var("improvement_action_label") }} and goal:<goal_id>'
                else team || ' acted on ' || cast(course_corrected_goals as {{ dbt.type_string() }}) || ' of '
                    || cast(off_track_goals as {{ dbt.type_string() }}) || ' goals off track: file an issue labelled'
                    || ' {{ var("improvement_action_label") }} and goal:' || first_uncorrected_goal_id
            end
            when 6 then team || ' looked back at ' || cast(looked_back_goals as {{ dbt.type_string() }}) || ' of '
                || cast(targets as {{ dbt.type_string() }}) || ' goals: '
                || case when targets < {{ var('maturity_data_driven_min_goals') }}
                    then 'set goals for more of its work'
                    else 'look back at the goal due on '
                        || cast(first_unreviewed_goal_due_date as {{ dbt.type_string() }}) end
            else team || ' is data-driven: keep looking back at every goal'
        end as next_step
    from ladder
)

select * from final
