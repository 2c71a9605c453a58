# nbgrader as every hub user sees it (JUPYTER_CONFIG_PATH, set by ../../jupyterhub_config.py):
# one course, one shared exchange. For an instructor, the course's own configuration
# (assignments/nbgrader_config.py of their clone) is loaded on top.
import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "autodiff"
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE_ROOT", "/srv/nbgrader/exchange")
_course = os.environ.get("AUTODIFF_COURSE_ROOT")
if _course and os.path.isfile(os.path.join(_course, "nbgrader_config.py")):
    load_subconfig(os.path.join(_course, "nbgrader_config.py"))  # noqa: F821
