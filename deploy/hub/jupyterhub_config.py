"""JupyterHub for a class on one machine: one Unix account per person, nbgrader's exchange.

Run as root (it starts each user's server as that Unix user): `make hub` (see deploy/README.md).
Settings come from the environment, so this file stays as it is:

  AUTODIFF_INSTRUCTORS    comma-separated Unix user names of the instructors (hub admins)
  AUTODIFF_STUDENTS       comma-separated Unix user names of the students
  AUTODIFF_COURSE_ROOT    the instructor's nbgrader course root, relative to their home
                          (default autodiff-course/assignments: a clone of this repository)
  NBGRADER_EXCHANGE_ROOT  nbgrader's shared exchange folder (default /srv/nbgrader/exchange)
  AUTODIFF_HUB_BIND_URL   where the proxy listens (default http://127.0.0.1:8000; put TLS in front)
  AUTODIFF_HUB_API_PORT, AUTODIFF_PROXY_API_PORT   the hub's and the proxy's own ports on 127.0.0.1
                          (default 8081 and 8001)

Log-in is the machine's own accounts (PAM, JupyterHub's default authenticator).
"""
import os
import sys

c = get_config()  # noqa: F821 (injected by traitlets)
HERE = os.path.dirname(os.path.abspath(__file__))


def _names(var):
    return {n.strip() for n in os.environ.get(var, "").split(",") if n.strip()}


instructors = _names("AUTODIFF_INSTRUCTORS")
students = _names("AUTODIFF_STUDENTS")
course_root = os.environ.get("AUTODIFF_COURSE_ROOT", "autodiff-course/assignments")
exchange = os.environ.get("NBGRADER_EXCHANGE_ROOT", "/srv/nbgrader/exchange")

c.JupyterHub.bind_url = os.environ.get("AUTODIFF_HUB_BIND_URL", "http://127.0.0.1:8000")
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{os.environ.get('AUTODIFF_HUB_API_PORT', '8081')}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('AUTODIFF_PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.command = [os.path.join(HERE, "node_modules", ".bin", "configurable-http-proxy")]

c.Authenticator.allowed_users = instructors | students
c.Authenticator.admin_users = instructors

# each user's server: this environment's single-user server, as that Unix user, in their home
c.Spawner.cmd = [os.path.join(os.path.dirname(sys.executable), "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120


def nbgrader_roles(spawner):
    """Instructors get the Formgrader on their course root; students get Fetch, Validate,
    Submit and Fetch Feedback only (etc/student/ turns the instructor pieces off)."""
    name = spawner.user.name
    common = os.path.join(HERE, "etc", "common")
    if name in instructors:
        spawner.environment["JUPYTER_CONFIG_PATH"] = common
        spawner.environment["AUTODIFF_COURSE_ROOT"] = os.path.join(os.path.expanduser(f"~{name}"), course_root)
    else:
        spawner.environment["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
            [os.path.join(HERE, "etc", "student"), common])
    spawner.environment["NBGRADER_EXCHANGE_ROOT"] = exchange


c.Spawner.pre_spawn_hook = nbgrader_roles
