-- One row per person and report day with Copilot activity: the per-user report rows of the organisation reports
-- (an enterprise report only fills a user-day no organisation report has, as it repeats them), with the features
-- and IDE families used that day. A person active in two organisations has their activity summed.
with

user_days as (
    select * from {{ ref('stg_github_copilot__user_days') }}
),

features as (
    select * from {{ ref('stg_github_copilot__user_day_features') }}
),

ides as (
    select * from {{ ref('stg_github_copilot__user_day_ides') }}
),

users as (
    select * from {{ ref('int_copilot_users') }}
),

ranked as (
    select
        *,
        case when scope like 'org:%' then 0 else 1 end as scope_rank
    from user_days
),

best as (
    select
        user_id,
        report_date,
        min(scope_rank) as best_rank
    from ranked
    group by user_id, report_date
),

chosen as (
    select ranked.*
    from ranked
    inner join best
        on ranked.user_id = best.user_id
        and ranked.report_date = best.report_date
        and ranked.scope_rank = best.best_rank
),

feature_use as (
    select
        scope,
        user_id,
        report_date,
        max(case when feature_group = 'completion' then 1 else 0 end) as used_completion,
        max(case when feature_group = 'chat' then 1 else 0 end) as used_chat,
        max(case when feature_group = 'agent' then 1 else 0 end) as used_agent
    from features
    group by scope, user_id, report_date
),

ide_use as (
    select
        scope,
        user_id,
        report_date,
        max(case when ide_family = 'vscode' then 1 else 0 end) as used_vscode,
        max(case when ide_family = 'jetbrains' then 1 else 0 end) as used_jetbrains,
        max(case when ide_family = 'other' then 1 else 0 end) as used_other_ide
    from ides
    group by scope, user_id, report_date
),

joined as (
    select
        users.person_id,
        users.person_key,
        chosen.report_date,
        chosen.interactions,
        chosen.lines_suggested,
        chosen.lines_accepted,
        coalesce(feature_use.used_completion, 0) as used_completion,
        case when chosen.used_chat then 1 else coalesce(feature_use.used_chat, 0) end as used_chat,
        case when chosen.used_agent then 1 else coalesce(feature_use.used_agent, 0) end as used_agent,
        case when chosen.used_cli then 1 else 0 end as used_cli,
        coalesce(ide_use.used_vscode, 0) as used_vscode,
        coalesce(ide_use.used_jetbrains, 0) as used_jetbrains,
        coalesce(ide_use.used_other_ide, 0) as used_other_ide
    from chosen
    inner join users
        on chosen.user_id = users.user_id
    left join feature_use
        on chosen.scope = feature_use.scope
        and chosen.user_id = feature_use.user_id
        and chosen.report_date = feature_use.report_date
    left join ide_use
        on chosen.scope = ide_use.scope
        and chosen.user_id = ide_use.user_id
        and chosen.report_date = ide_use.report_date
),

final as (
    select
        -- ids
        person_id,
        person_key,
        -- dates
        report_date,
        -- measures
        cast(sum(interactions) as bigint) as interactions,
        cast(sum(lines_suggested) as bigint) as lines_suggested,
        cast(sum(lines_accepted) as bigint) as lines_accepted,
        -- flags
        max(used_completion) = 1 as used_completion,
        max(used_chat) = 1 as used_chat,
        max(used_agent) = 1 as used_agent,
        max(used_cli) = 1 as used_cli,
        max(used_vscode) = 1 as used_vscode,
        max(used_jetbrains) = 1 as used_jetbrains,
        max(used_other_ide) = 1 as used_other_ide
    from joined
    group by person_id, person_key, report_date
)

select * from final
