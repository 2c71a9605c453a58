# nbgrader configuration for a Jupyter server started at the repository root (`make lab`), so
# that the instructor's Formgrader finds the course. The course root is assignments/, and its
# nbgrader_config.py holds every setting.
c = get_config()  # noqa: F821 (injected by traitlets)
load_subconfig("assignments/nbgrader_config.py")  # noqa: F821
