"""Lesson 3 checks: git-flow, the resolved conflict and the pre-commit hook.

They run `git` on the learner's practice clone (ctx.repo) and ask its origin with
`git ls-remote`, so "pushed" means what the remote really holds.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

from labs.checks.core import CheckContext, CheckFailed, register
from labs.practice.git_practice import CONFLICT_BRANCH, START_REF, git, run_git

LESSON = 3
LOGIN_BRANCH = "feature/implement-login"
LOGIN_SUBJECT = "feat: scaffolding login page"
SIGNUP_BRANCH = "feature/implement-signup"
RELEASE_BRANCH = "release/1.0.0"
TAG = "v1.0.0"
CONFLICT_MARKER = r"^(<<<<<<<|>>>>>>>)( |$)|^=======$"


def _rev(repo: Path, ref: str) -> str | None:
    result = run_git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


def _branch(repo: Path, name: str) -> str | None:
    """Tip of a local branch, else of origin's copy as last fetched."""
    return _rev(repo, f"refs/heads/{name}") or _rev(repo, f"refs/remotes/origin/{name}")


def _need_branch(repo: Path, name: str) -> str:
    tip = _rev(repo, f"refs/heads/{name}")
    if tip is None:
        raise CheckFailed(f"there is no local branch {name}")
    return tip


def _is_ancestor(repo: Path, commit: str, of: str) -> bool:
    return run_git(repo, "merge-base", "--is-ancestor", commit, of, check=False).returncode == 0


def _remote_refs(repo: Path) -> dict[str, str]:
    if run_git(repo, "remote", "get-url", "origin", check=False).returncode != 0:
        raise CheckFailed("the repository has no remote named origin")
    out = git(repo, "ls-remote", "origin")
    refs: dict[str, str] = {}
    for line in out.splitlines():
        sha, _, name = line.partition("\t")
        refs[name] = sha
    return refs


def _merge_mentions(repo: Path, branch: str, into: str) -> str | None:
    """Subject of a merge commit on `into` naming `branch` (for branches deleted after merging)."""
    subjects = git(repo, "log", "--merges", "--format=%s", into).splitlines()
    return next((s for s in subjects if f"'{branch}'" in s or f" {branch} " in f" {s} "), None)


def _merged(repo: Path, branch: str, into: str) -> str:
    """How `branch` reached `into`; raise CheckFailed when it did not."""
    into_tip = _need_branch(repo, into)
    tip = _branch(repo, branch)
    if tip is not None:
        if not _is_ancestor(repo, tip, into_tip):
            raise CheckFailed(f"{branch} ({tip[:8]}) is not merged into {into}")
        return f"{branch} {tip[:8]} is in {into}"
    subject = _merge_mentions(repo, branch, into)
    if subject is None:
        raise CheckFailed(f"there is no branch {branch} and no merge of it in {into}")
    return f"{branch} was deleted after merging ({subject!r} is on {into})"


def _commit_with_subject(repo: Path, subject: str, ref: str) -> str | None:
    for line in git(repo, "log", "--format=%H %s", ref).splitlines():
        sha, _, subj = line.partition(" ")
        if subj.strip() == subject:
            return sha
    return None


@register(LESSON, "git.develop-pushed", "develop exists and is pushed",
          "git switch -c develop main && git push -u origin develop")
def develop_pushed(ctx: CheckContext) -> str:
    repo = ctx.need_repo()
    local = _need_branch(repo, "develop")
    remote = _remote_refs(repo).get("refs/heads/develop")
    if remote is None:
        raise CheckFailed("origin has no develop branch (push it: git push -u origin develop)")
    if remote != local and not (_rev(repo, remote) and _is_ancestor(repo, local, remote)):
        ahead = git(repo, "rev-list", "--count", local, f"^{remote}") if _rev(repo, remote) \
            else "some"
        raise CheckFailed(f"develop has {ahead} commit(s) origin does not (git push)")
    return f"develop {local[:8]} is on origin"


@register(LESSON, "git.feature-login", f"{LOGIN_BRANCH} merged into develop",
          f"git switch -c {LOGIN_BRANCH} develop, commit with the message "
          f"'{LOGIN_SUBJECT}', then git switch develop && git merge --no-ff {LOGIN_BRANCH}")
def feature_login(ctx: CheckContext) -> str:
    repo = ctx.need_repo()
    tip = _branch(repo, LOGIN_BRANCH)
    where = tip or _need_branch(repo, "develop")
    sha = _commit_with_subject(repo, LOGIN_SUBJECT, where)
    if sha is None:
        raise CheckFailed(f"no commit {LOGIN_SUBJECT!r} on "
                          f"{LOGIN_BRANCH if tip else 'develop'}")
    how = _merged(repo, LOGIN_BRANCH, "develop")
    return f"{LOGIN_SUBJECT!r} ({sha[:8]}); {how}"


@register(LESSON, "git.feature-signup", f"{SIGNUP_BRANCH} merged into develop",
          f"git switch -c {SIGNUP_BRANCH} develop, commit your signup work, then merge it "
          "into develop")
def feature_signup(ctx: CheckContext) -> str:
    repo = ctx.need_repo()
    tip = _branch(repo, SIGNUP_BRANCH)
    if tip is not None:
        login = _branch(repo, LOGIN_BRANCH)
        start = _rev(repo, START_REF)
        for other, name in ((login, LOGIN_BRANCH), (start, "main's starting point")):
            if other and _is_ancestor(repo, tip, other):
                raise CheckFailed(f"{SIGNUP_BRANCH} has no commit of its own "
                                  f"(its tip is already on {name})")
    return _merged(repo, SIGNUP_BRANCH, "develop")


@register(LESSON, "git.release", f"{RELEASE_BRANCH} merged into main and develop",
          f"git switch -c {RELEASE_BRANCH} develop; then merge it into main and into develop "
          "(git merge --no-ff)")
def release(ctx: CheckContext) -> str:
    repo = ctx.need_repo()
    into_main = _merged(repo, RELEASE_BRANCH, "main")
    into_develop = _merged(repo, RELEASE_BRANCH, "develop")
    if _commit_with_subject(repo, LOGIN_SUBJECT, "main") is None:
        raise CheckFailed(f"main does not contain {LOGIN_SUBJECT!r}: the release must carry "
                          "develop's features (branch it from develop after the merges)")
    return f"main: {into_main}; develop: {into_develop}"


@register(LESSON, "git.tag", f"tag {TAG} on main, pushed",
          f"git switch main && git tag -a {TAG} -m 'Release 1.0.0' && git push origin {TAG}")
def tag(ctx: CheckContext) -> str:
    repo = ctx.need_repo()
    target = _rev(repo, f"refs/tags/{TAG}")
    if target is None:
        raise CheckFailed(f"there is no tag {TAG}")
    main = _need_branch(repo, "main")
    if not _is_ancestor(repo, target, main):
        raise CheckFailed(f"{TAG} points at {target[:8]}, which is not on main")
    if _rev(repo, START_REF) and _is_ancestor(repo, target, START_REF):
        raise CheckFailed(f"{TAG} points at the starting commit; tag the release merge on main")
    local_obj = git(repo, "rev-parse", f"refs/tags/{TAG}")
    remote_obj = _remote_refs(repo).get(f"refs/tags/{TAG}")
    if remote_obj is None:
        raise CheckFailed(f"origin has no tag {TAG} (git push origin {TAG})")
    if remote_obj != local_obj:
        raise CheckFailed(f"origin's {TAG} differs from yours; push the tag again "
                          f"(git push --force origin {TAG})")
    kind = git(repo, "cat-file", "-t", f"refs/tags/{TAG}")
    return f"{TAG} ({'annotated' if kind == 'tag' else 'lightweight'}) on {target[:8]}, pushed"


@register(LESSON, "git.conflict-resolved", f"the {CONFLICT_BRANCH} conflict is resolved",
          f"git switch develop && git merge {CONFLICT_BRANCH}; edit src/app.py to keep one "
          "greeting and remove the <<<<<<< ======= >>>>>>> lines; git add src/app.py && "
          "git commit")
def conflict_resolved(ctx: CheckContext) -> str:
    repo = ctx.need_repo()
    if (repo / ".git" / "MERGE_HEAD").exists():
        raise CheckFailed("a merge is still in progress (resolve, git add, git commit)")
    develop = _need_branch(repo, "develop")
    tip = _branch(repo, CONFLICT_BRANCH)
    if tip is None:
        raise CheckFailed(f"the branch {CONFLICT_BRANCH} is gone; recreate it from origin "
                          f"(git switch {CONFLICT_BRANCH})")
    if not _is_ancestor(repo, tip, develop):
        raise CheckFailed(f"{CONFLICT_BRANCH} is not merged into develop yet")
    merges = git(repo, "rev-list", "--merges", "--ancestry-path", f"{tip}..{develop}")
    merge = next((m for m in merges.splitlines()
                  if tip in git(repo, "rev-list", "--parents", "-n", "1", m).split()[1:]), None)
    if merge is None:
        raise CheckFailed(f"no merge commit brings {CONFLICT_BRANCH} into develop")
    dirty: list[str] = []
    for ref in ("develop", "main"):
        found = run_git(repo, "grep", "-l", "-E", CONFLICT_MARKER, ref, "--", check=False)
        dirty += [line.partition(":")[2] + f" (on {ref})" for line in found.stdout.splitlines()]
    if dirty:
        raise CheckFailed("conflict markers are still committed in " + ", ".join(dirty))
    return f"merge {merge[:8]} resolved the conflict; no conflict markers on develop or main"


def _try_commit(clone: Path, directory: str,
                files: dict[str, str]) -> subprocess.CompletedProcess[str]:
    for rel, text in files.items():
        path = clone / directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    run_git(clone, "add", "--", directory)
    return run_git(clone, "-c", "core.hooksPath=.git/hooks", "-c", "user.name=Lab Check",
                   "-c", "user.email=lab-check@prodev.dev", "commit", "-m",
                   f"lab check: add {directory}", check=False)


@register(LESSON, "git.pre-commit-hook", "pre-commit hook refuses a directory without README",
          "write .git/hooks/pre-commit (a shell script that exits 1 when a staged file's "
          "directory has no README) and chmod +x it")
def pre_commit_hook(ctx: CheckContext) -> str:
    repo = ctx.need_repo()
    hook = repo / ".git" / "hooks" / "pre-commit"
    if not hook.is_file():
        raise CheckFailed(".git/hooks/pre-commit does not exist")
    if not os.access(hook, os.X_OK):
        raise CheckFailed(".git/hooks/pre-commit is not executable (chmod +x it)")
    with tempfile.TemporaryDirectory(prefix="lab-check-hook-") as tmp:
        clone = Path(tmp) / "clone"
        git(Path(tmp), "clone", "--quiet", "--no-hardlinks", str(repo.resolve()), str(clone))
        copied = clone / ".git" / "hooks" / "pre-commit"
        copied.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(hook, copied)
        copied.chmod(copied.stat().st_mode | stat.S_IXUSR)
        refused = _try_commit(clone, "lab-check-no-readme", {"notes.txt": "no readme here\n"})
        if refused.returncode == 0:
            raise CheckFailed("the hook let a commit add lab-check-no-readme/notes.txt "
                              "without a README")
        run_git(clone, "reset", "--quiet", "--hard", "HEAD")
        run_git(clone, "clean", "-fdq")
        allowed = _try_commit(clone, "lab-check-with-readme",
                              {"README.md": "# documented\n", "notes.txt": "ok\n"})
        if allowed.returncode != 0:
            said = (allowed.stdout + allowed.stderr).strip().splitlines()[-1:] or [""]
            raise CheckFailed("the hook also refused a directory that has a README.md: "
                              f"{said[0]}")
    why = (refused.stdout + refused.stderr).strip().splitlines()
    return ("refused a directory without README" + (f" ({why[0]})" if why else "")
            + "; accepted one with README.md")
