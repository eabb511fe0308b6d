-- Who looks at the metrics: per team and ISO week, how many times the team's section of the Yardstick report was
-- viewed (`yardstick report --track`) and by how many distinct viewers — a count only: no viewer id leaves
-- intermediate. Rung 4 of goals_team_maturity counts these weeks.
with

views as (
    select * from {{ ref('int_report_section_views') }}
),

final as (
    select
        -- ids
        team,
        week_start,
        -- measures
        cast(count(*) as bigint) as views,
        cast(count(distinct viewer_id) as bigint) as viewers
    from views
    group by team, week_start
)

select * from final
