-- Copilot adoption per team and ISO week: seats, active and AI-active engineers, features, IDEs and lines, plus the
-- pull requests the Copilot coding agent opened in the team's repositories. Group-size rule: a row whose team had
-- fewer than var min_group_size engineers is suppressed (every AI cell NULL, is_suppressed); within a row, a
-- feature or IDE count (and the lines) built from fewer than min_group_size people is NULL.
with

person_weeks as (
    select * from {{ ref('int_copilot_person_weeks') }}
),

pull_requests as (
    select * from {{ ref('int_pull_requests') }}
),

agent_pulls as (
    select
        team,
        {{ period_start('week', 'opened_at') }} as week_start
    from pull_requests
    where author_login in (
        {%- for login in var('copilot_agent_logins') %}'{{ login }}'{{ ", " if not loop.last }}{% endfor -%}
    )
),

agent_counts as (
    select team, week_start, count(*) as agent_pull_requests from agent_pulls group by team, week_start
    union all
    select 'org' as team, week_start, count(*) from agent_pulls group by week_start
),

team_weeks as (
    select
        team,
        week_start,
        count(distinct person_id) as team_engineers,
        count(distinct case when has_seat then person_id end) as engineers_with_seat,
        count(distinct case when is_active then person_id end) as active_engineers,
        count(distinct case when is_ai_active then person_id end) as ai_active_engineers,
        count(distinct case when used_completion then person_id end) as completion_engineers,
        count(distinct case when used_chat then person_id end) as chat_engineers,
        count(distinct case when used_agent then person_id end) as agent_engineers,
        count(distinct case when used_cli then person_id end) as cli_engineers,
        count(distinct case when used_vscode then person_id end) as vscode_engineers,
        count(distinct case when used_jetbrains then person_id end) as jetbrains_engineers,
        count(distinct case when used_other_ide then person_id end) as other_ide_engineers,
        sum(lines_suggested) as lines_suggested,
        sum(lines_accepted) as lines_accepted
    from person_weeks
    group by team, week_start
),

final as (
    select
        -- ids
        team_weeks.team,
        cast(team_weeks.week_start as date) as week_start,
        -- group size
        cast(team_weeks.team_engineers as bigint) as team_engineers,
        team_weeks.team_engineers < {{ var('min_group_size') }} as is_suppressed,
        -- adoption
        cast({{ suppress_small('team_weeks.engineers_with_seat', 'team_weeks.team_engineers') }} as bigint)
            as engineers_with_seat,
        cast({{ suppress_small('team_weeks.active_engineers', 'team_weeks.team_engineers') }} as bigint)
            as active_engineers,
        cast({{ suppress_small('team_weeks.ai_active_engineers', 'team_weeks.team_engineers') }} as bigint)
            as ai_active_engineers,
        {{ suppress_small('cast(team_weeks.active_engineers as ' ~ type_double() ~ ') / team_weeks.team_engineers',
                          'team_weeks.team_engineers') }} as active_share,
        {{ suppress_small('cast(team_weeks.ai_active_engineers as ' ~ type_double() ~ ') / team_weeks.team_engineers',
                          'team_weeks.team_engineers') }} as ai_active_share,
        -- features (engineers who used each; NULL when fewer than min_group_size)
        {%- for column in ['completion', 'chat', 'agent', 'cli', 'vscode', 'jetbrains', 'other_ide'] %}
        cast(case when team_weeks.team_engineers >= {{ var('min_group_size') }}
            then {{ suppress_small('team_weeks.' ~ column ~ '_engineers', 'team_weeks.' ~ column ~ '_engineers') }}
        end as bigint) as {{ column }}_engineers,
        {%- endfor %}
        -- lines (from the active engineers)
        cast(case when team_weeks.team_engineers >= {{ var('min_group_size') }}
            then {{ suppress_small('team_weeks.lines_suggested', 'team_weeks.active_engineers') }}
        end as bigint) as lines_suggested,
        cast(case when team_weeks.team_engineers >= {{ var('min_group_size') }}
            then {{ suppress_small('team_weeks.lines_accepted', 'team_weeks.active_engineers') }}
        end as bigint) as lines_accepted,
        -- the Copilot coding agent (a bot: not a person's use)
        cast(coalesce(agent_counts.agent_pull_requests, 0) as bigint) as copilot_agent_pull_requests
    from team_weeks
    left join agent_counts
        on team_weeks.team = agent_counts.team
        and team_weeks.week_start = agent_counts.week_start
)

select * from final
