{#-
    The DORA performance tier of `value` for `metric` ('deployment_frequency', 'lead_time',
    'change_failure_rate', 'recovery_time') in report year var `dora_report_year`, read from the
    `dora_benchmarks` seed. Used by every dora mart, so all tiers follow one rule:

    1. Benchmark rows: those of the report year and metric whose `team` equals `team_expr`; when the team
       has no row for that year and metric (or `team_expr` is none, i.e. the organisation), the default
       rows (blank team).
    2. The tier is the best-ranked (lowest `tier_rank`) row whose closed interval
       [lower_bound, upper_bound] contains the value; a NULL bound is unbounded. Intervals may overlap:
       the better tier wins at a shared boundary (7 deployments a week is elite, not high).
    3. A NULL value has a NULL tier; so does a value no row covers.

    `benchmarks` is the relation of the seed (pass the import CTE name).
-#}
{% macro dora_tier(metric, value, team_expr=none, benchmarks='dora_benchmarks') -%}
    (
        select benchmark.tier
        from {{ benchmarks }} as benchmark
        where benchmark.report_year = {{ var('dora_report_year') }}
            and benchmark.metric = '{{ metric }}'
            and {{ value }} is not null
            and {{ value }} >= coalesce(benchmark.lower_bound, {{ value }})
            and {{ value }} <= coalesce(benchmark.upper_bound, {{ value }})
            {%- if team_expr is none %}
            and benchmark.team is null
            {%- else %}
            and (
                benchmark.team = {{ team_expr }}
                or (benchmark.team is null and {{ lacks_team_benchmark(benchmarks, metric, team_expr) }})
            )
            {%- endif %}
        order by benchmark.tier_rank
        limit 1
    )
{%- endmacro %}

{#- True when the team `team_expr` has no benchmark row of its own for `metric` in the report year. -#}
{% macro lacks_team_benchmark(benchmarks, metric, team_expr) -%}
    {{ return(adapter.dispatch('lacks_team_benchmark', 'yardstick')(benchmarks, metric, team_expr)) }}
{%- endmacro %}

{% macro default__lacks_team_benchmark(benchmarks, metric, team_expr) -%}
    not exists (
        select 1
        from {{ benchmarks }} as team_benchmark
        where team_benchmark.report_year = {{ var('dora_report_year') }}
            and team_benchmark.metric = '{{ metric }}'
            and team_benchmark.team = {{ team_expr }}
    )
{%- endmacro %}
