"""One pull request per component: the pure planner (`plan`), the PR text (`body`) and the
thin runner that carries a plan out through a forge (`runner`)."""
