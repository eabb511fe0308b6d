-- Shares of done work in planning_investment_monthly sum to 1 per team and month (points shares too, unless the
-- team-month has no story points at all, when they are all NULL).
select
    team,
    month_start,
    sum(issue_share) as issue_shares,
    sum(points_share) as points_shares
from {{ ref('planning_investment_monthly') }}
group by team, month_start
having abs(sum(issue_share) - 1) > 1e-9
    or (sum(points_share) is not null and abs(sum(points_share) - 1) > 1e-9)
