-- One row per team (and `org`): the evidence of each rung of the improvement loop — targets set, actions taken,
-- due targets looked back on, actions closed by their due date, targets met — and the highest rung the team shows
-- evidence for. Each rung needs the ones below it:
--   0 measuring      its delivery is measured (every team)
--   1 targeting      it has at least one target
--   2 acting         it has at least one improvement action
--   3 looping_back   it has due targets and looked back (`reviewed_on`) on at least `maturity_share` of them
--   4 improving      it closed at least `maturity_share` of its due actions on time and met at least one target
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

all_teams as (
    select team from teams
    union
    select team from goals
),

goal_evidence as (
    select
        team,
        count(*) as targets,
        sum(case when is_due then 1 else 0 end) as due_targets,
        sum(case when is_due and is_reviewed then 1 else 0 end) as reviewed_due_targets,
        sum(case when status = 'met' then 1 else 0 end) as met_targets,
        count(distinct case when category = 'efficiency' then metric end) as efficiency_metrics_with_targets,
        count(distinct case when category = 'quality' then metric end) as quality_metrics_with_targets,
        count(distinct case when category = 'hygiene' then metric end) as hygiene_metrics_with_targets,
        count(distinct case when category = 'alignment' then metric end) as alignment_metrics_with_targets,
        count(distinct case when category = 'product' then metric end) as product_metrics_with_targets
    from goals
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

shares as (
    select
        all_teams.team,
        cast(coalesce(goal_evidence.targets, 0) as bigint) as targets,
        cast(coalesce(goal_evidence.due_targets, 0) as bigint) as due_targets,
        cast(coalesce(goal_evidence.met_targets, 0) as bigint) as met_targets,
        cast(coalesce(action_evidence.actions, 0) as bigint) as actions,
        cast(goal_evidence.reviewed_due_targets as {{ type_double() }}) / nullif(goal_evidence.due_targets, 0)
            as looped_back_share,
        cast(action_evidence.actions_on_time as {{ type_double() }}) / nullif(action_evidence.due_actions, 0)
            as actions_on_time_share,
        coalesce(goal_evidence.efficiency_metrics_with_targets, 0) as efficiency_metrics_with_targets,
        coalesce(goal_evidence.quality_metrics_with_targets, 0) as quality_metrics_with_targets,
        coalesce(goal_evidence.hygiene_metrics_with_targets, 0) as hygiene_metrics_with_targets,
        coalesce(goal_evidence.alignment_metrics_with_targets, 0) as alignment_metrics_with_targets,
        coalesce(goal_evidence.product_metrics_with_targets, 0) as product_metrics_with_targets
    from all_teams
    left join goal_evidence
        on all_teams.team = goal_evidence.team
    left join action_evidence
        on all_teams.team = action_evidence.team
),

rungs as (
    select
        *,
        targets > 0 as has_targets,
        targets > 0 and actions > 0 as is_acting,
        coalesce(looped_back_share >= {{ var('maturity_share') }}, false) as is_looping_back,
        coalesce(actions_on_time_share >= {{ var('maturity_share') }}, false) and met_targets > 0 as is_improving
    from shares
),

final as (
    select
        -- ids
        team,
        -- evidence
        has_targets,
        targets,
        due_targets,
        looped_back_share,
        actions,
        actions_on_time_share,
        met_targets,
        efficiency_metrics_with_targets,
        quality_metrics_with_targets,
        hygiene_metrics_with_targets,
        alignment_metrics_with_targets,
        product_metrics_with_targets,
        -- ladder
        case
            when is_acting and is_looping_back and is_improving then 4
            when is_acting and is_looping_back then 3
            when is_acting then 2
            when has_targets then 1
            else 0
        end as maturity_rung
    from rungs
)

select
    *,
    case maturity_rung
        when 4 then 'improving'
        when 3 then 'looping_back'
        when 2 then 'acting'
        when 1 then 'targeting'
        else 'measuring'
    end as maturity_level
from final
