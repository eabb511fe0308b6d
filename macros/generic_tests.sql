{#- Generic tests written here because dbt hub packages are not reachable. -#}

{#- The combination of `combination_of_columns` is unique (NULLs compare equal). -#}
{% test unique_combination(model, combination_of_columns) %}
    select
        {{ combination_of_columns | join(', ') }},
        count(*) as row_count
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{#- Every row satisfies the boolean `expression` (rows where it is NULL pass); `where` filters rows. -#}
{% test expression_is_true(model, expression, column_name=none) %}
    select *
    from {{ model }}
    where not ({{ expression }})
{% endtest %}

{#- A numeric column lies within [min_value, max_value] (either bound optional; NULLs pass). -#}
{% test between(model, column_name, min_value=none, max_value=none) %}
    select *
    from {{ model }}
    where {{ column_name }} is not null
        and (
            false
            {%- if min_value is not none %} or {{ column_name }} < {{ min_value }}{% endif %}
            {%- if max_value is not none %} or {{ column_name }} > {{ max_value }}{% endif %}
        )
{% endtest %}

{#- A share (0–1) is at least the value of the dbt var `threshold_var`; NULL shares (no denominator) pass. Meant
    to be configured with `severity: warn`: low link coverage is a data-quality signal, not a broken build. -#}
{% test share_at_least(model, column_name, threshold_var='link_coverage_warn_threshold') %}
    select *
    from {{ model }}
    where {{ column_name }} < {{ var(threshold_var) }}
{% endtest %}
