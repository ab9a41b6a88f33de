"""`therapy-audit sample`: the auditor's statistical workflow on the command line (random
numbers, sample size, variable and attribute appraisal), reading worksheets and writing the
appraisal; the statistics themselves are in checks/sampling."""
