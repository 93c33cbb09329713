"""Lesson 3 checks: git-flow, the resolved conflict, rebase, cherry-pick, stash and the hook.

They run `git` on the learner's practice clone (ctx.repo) and ask its origin with
`git ls-remote`, so "pushed" means what the remote really holds. The lab's scripted commits are
found under refs/practice/ (or as the commits SETUP_AUTHOR committed), so a learner may delete
the scripted branches, here and on origin, as git-flow does.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

from labs.checks.core import CheckContext, CheckFailed, register
from labs.practice.git_practice import (
    CONFLICT_BRANCH,
    CONFLICT_REF,
    CONFLICT_SUBJECT,
    REBASE_BRANCH,
    SETUP_AUTHOR,
    START_REF,
    START_SUBJECT,
    TYPO_SUBJECT,
    WIP_SUBJECT,
    git,
    run_git,
)

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


def _merge_mentions(repo: Path, branch: str, into: str) -> tuple[str, str] | None:
    """(parents, subject) of a merge commit on `into` naming `branch` (for branches deleted
    after merging); parents is `git log`'s %P, first parent first."""
    for line in git(repo, "log", "--merges", "--format=%P%x1f%s", into).splitlines():
        parents, _, subject = line.partition("\x1f")
        if f"'{branch}'" in subject or f" {branch} " in f" {subject} ":
            return parents, subject
    return None


def _merged(repo: Path, branch: str, into: str) -> str:
    """How `branch` reached `into`; raise CheckFailed when it did not."""
    into_tip = _need_branch(repo, into)
    tip = _branch(repo, branch)
    if tip is not None:
        if not _is_ancestor(repo, tip, into_tip):
            raise CheckFailed(f"{branch} ({tip[:8]}) is not merged into {into}")
        return f"{branch} {tip[:8]} is in {into}"
    merge = _merge_mentions(repo, branch, into)
    if merge is None:
        raise CheckFailed(f"there is no branch {branch} and no merge of it in {into}")
    return f"{branch} was deleted after merging ({merge[1]!r} is on {into})"


def _commit_with_subject(repo: Path, subject: str, ref: str) -> str | None:
    for line in git(repo, "log", "--format=%H %s", ref).splitlines():
        sha, _, subj = line.partition(" ")
        if subj.strip() == subject:
            return sha
    return None


def _setup_commit(repo: Path, subject: str) -> str | None:
    """The lab's own scripted commit with this subject, on any ref. Cherry-picked and rebased
    copies keep the author but get the learner as committer, so they never match."""
    for line in git(repo, "log", "--all", "--format=%H%x1f%ce%x1f%s").splitlines():
        sha, email, subj = line.split("\x1f", 2)
        if email == SETUP_AUTHOR[1] and subj == subject:
            return sha
    return None


def _conflict_tip(repo: Path) -> str | None:
    """feature/update-greeting's tip: the branch, else where the lab left it."""
    return (_branch(repo, CONFLICT_BRANCH) or _rev(repo, CONFLICT_REF)
            or _setup_commit(repo, CONFLICT_SUBJECT))


def _release_tip(repo: Path) -> str | None:
    """release/1.0.0's tip: the branch, else the side of its merge into main."""
    tip = _branch(repo, RELEASE_BRANCH)
    if tip is not None:
        return tip
    merge = _merge_mentions(repo, RELEASE_BRANCH, "main")
    parents = merge[0].split() if merge else []
    return parents[1] if len(parents) > 1 else None


def _markers(repo: Path, ref: str) -> list[str]:
    """Files of `ref` that still hold conflict markers."""
    found = run_git(repo, "grep", "-l", "-E", CONFLICT_MARKER, ref, "--", check=False)
    return [line.partition(":")[2] for line in found.stdout.splitlines()]


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


@register(LESSON, "git.tag", f"tag {TAG} on main, on the release merge, pushed",
          f"after git merge --no-ff {RELEASE_BRANCH} on main: git tag -a {TAG} -m "
          f"'Release 1.0.0' && git push origin {TAG}")
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
    release = _release_tip(repo)
    if release is None:
        raise CheckFailed(f"there is no {RELEASE_BRANCH} (nor a merge of it into main) for "
                          f"{TAG} to mark")
    if not _is_ancestor(repo, release, target):
        raise CheckFailed(f"{TAG} points at {target[:8]}, which does not contain "
                          f"{RELEASE_BRANCH} ({release[:8]}): merge the release into main, then "
                          f"move the tag there (git tag -f -a {TAG} -m 'Release 1.0.0' main && "
                          f"git push --force origin {TAG})")
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
    tip = _conflict_tip(repo)
    if tip is None:
        raise CheckFailed(f"{CONFLICT_BRANCH}'s commit {CONFLICT_SUBJECT!r} is nowhere in this "
                          "clone (invoke lab reset --lesson 3 starts the practice over)")
    if not _is_ancestor(repo, tip, develop):
        what = CONFLICT_BRANCH if _branch(repo, CONFLICT_BRANCH) else tip[:8]
        raise CheckFailed(f"{CONFLICT_BRANCH} is not merged into develop yet "
                          f"(git switch develop && git merge {what})")
    merges = git(repo, "rev-list", "--merges", "--ancestry-path", f"{tip}..{develop}")
    merge = next((m for m in merges.splitlines()
                  if tip in git(repo, "rev-list", "--parents", "-n", "1", m).split()[1:]), None)
    if merge is None:
        raise CheckFailed(f"no merge commit brings {CONFLICT_BRANCH} into develop")
    dirty = [f"{path} (on {ref})" for ref in ("develop", "main") for path in _markers(repo, ref)]
    if dirty:
        raise CheckFailed("conflict markers are still committed in " + ", ".join(dirty))
    return f"merge {merge[:8]} resolved the conflict; no conflict markers on develop or main"


@register(LESSON, "git.rebase", f"{CONFLICT_BRANCH} rebased onto main as {REBASE_BRANCH}",
          f"git switch -c {REBASE_BRANCH} {CONFLICT_BRANCH} && git rebase main; fix src/app.py, "
          "then git add src/app.py && git rebase --continue (to start again: git rebase --abort, "
          f"or git switch develop && git branch -D {REBASE_BRANCH})")
def rebase(ctx: CheckContext) -> str:
    repo = ctx.need_repo()
    git_dir = Path(git(repo, "rev-parse", "--absolute-git-dir"))
    if (git_dir / "rebase-merge").exists() or (git_dir / "rebase-apply").exists():
        raise CheckFailed("a rebase is still in progress (fix the conflict, git add, "
                          "git rebase --continue)")
    tip = _need_branch(repo, REBASE_BRANCH)
    original = _rev(repo, CONFLICT_REF) or _setup_commit(repo, CONFLICT_SUBJECT)
    base = _rev(repo, START_REF) or _setup_commit(repo, START_SUBJECT)
    if original is None or base is None:
        raise CheckFailed("the lab's scripted commits are missing (invoke lab reset --lesson 3)")
    # After the release main holds the branch itself, and `git rebase main` replays nothing:
    # then main's starting point is where to replay it.
    released = _is_ancestor(repo, original, "main")
    restart = (f"git switch develop && git branch -D {REBASE_BRANCH} && git switch -c "
               f"{REBASE_BRANCH} {CONFLICT_REF} && git rebase "
               f"{START_REF if released else 'main'}")
    merges = git(repo, "rev-list", "--merges", tip, "^main").split()
    if merges:
        raise CheckFailed(f"{REBASE_BRANCH} has merge commit {merges[0][:8]}: a rebase replays "
                          f"the commits in a line instead (start again: {restart})")
    if _is_ancestor(repo, original, tip):
        if released:
            raise CheckFailed(f"main already contains {CONFLICT_BRANCH}, so a rebase onto main "
                              f"replays nothing; replay it onto main's start instead: {restart}")
        raise CheckFailed(f"{REBASE_BRANCH} still holds the original {CONFLICT_SUBJECT!r} "
                          f"({original[:8]}): rebase it (git switch {REBASE_BRANCH} && "
                          "git rebase main)")
    if not _is_ancestor(repo, base, tip):
        raise CheckFailed(f"{REBASE_BRANCH} does not sit on main's {START_SUBJECT!r} "
                          f"(git switch {REBASE_BRANCH} && git rebase main)")
    replayed = _commit_with_subject(repo, CONFLICT_SUBJECT, f"{base}..{tip}")
    if replayed is None:
        raise CheckFailed(f"{REBASE_BRANCH} has no {CONFLICT_SUBJECT!r} on top of main "
                          f"(start again: {restart})")
    dirty = _markers(repo, tip)
    if dirty:
        raise CheckFailed(f"conflict markers are committed in {', '.join(dirty)} on "
                          f"{REBASE_BRANCH}")
    # A cherry-pick onto main gives the same commits; the branch's reflog tells them apart.
    ref = f"refs/heads/{REBASE_BRANCH}"
    if run_git(repo, "reflog", "exists", ref, check=False).returncode == 0:
        moves = git(repo, "reflog", "show", "--format=%gs", ref).splitlines()
        if not any(m.startswith("rebase") for m in moves):
            raise CheckFailed(f"{REBASE_BRANCH} was never rebased (its reflog: "
                              f"{'; '.join(moves[:3])}); start again: {restart}")
    return f"{CONFLICT_SUBJECT!r} replayed as {replayed[:8]} on main, no merge commit"


def _blob(repo: Path, ref: str, path: str) -> str | None:
    result = run_git(repo, "rev-parse", "--verify", "--quiet", f"{ref}:{path}", check=False)
    return result.stdout.strip() or None


def _files(repo: Path, old: str, new: str) -> list[str]:
    return git(repo, "diff", "--name-only", old, new).splitlines()


def _carries(repo: Path, change: tuple[str, str], ref: str) -> bool:
    """Is the change old..new in `ref`: each file as `new` has it, or holding every line the
    change added (later edits to the same file are fine)?"""
    old, new = change
    files = _files(repo, old, new)
    for path in files:
        if _blob(repo, ref, path) == _blob(repo, new, path):
            continue
        diff = git(repo, "diff", "--unified=0", old, new, "--", path).splitlines()
        added = [line[1:] for line in diff if line.startswith("+") and not line.startswith("+++")]
        blob = _blob(repo, ref, path)
        have = set(git(repo, "cat-file", "blob", blob).splitlines()) if blob else set()
        if not added or not set(added) <= have:
            return False
    return bool(files)


def _on(repo: Path, ref: str, subject: str, since: str) -> str | None:
    """A commit with this subject in since..ref (a copy the learner made)."""
    return _commit_with_subject(repo, subject, f"{since}..{ref}")


@register(LESSON, "git.cherry-pick", f"only {TYPO_SUBJECT!r} cherry-picked onto develop",
          "git switch develop && git log --oneline experiment: the typo fix sits just below "
          "the wip commit, so git cherry-pick experiment~1 (or its sha); never merge "
          "experiment. A wip commit picked by mistake: git revert <its sha>")
def cherry_pick(ctx: CheckContext) -> str:
    repo = ctx.need_repo()
    develop = _need_branch(repo, "develop")
    typo, wip = _setup_commit(repo, TYPO_SUBJECT), _setup_commit(repo, WIP_SUBJECT)
    start = _rev(repo, START_REF) or _setup_commit(repo, START_SUBJECT)
    if typo is None or wip is None or start is None:
        raise CheckFailed("the lab's experiment commits are missing (invoke lab reset --lesson 3)")
    if _is_ancestor(repo, typo, develop):
        raise CheckFailed("develop merged experiment's commits instead of cherry-picking one: "
                          "undo that merge (git reset --hard <develop before it>, then git push "
                          "--force-with-lease) or start over with invoke lab reset --lesson 3")
    if _carries(repo, (f"{wip}^", wip), develop):
        copy = _on(repo, develop, WIP_SUBJECT, start)
        undo = f"git revert {copy[:8]}" if copy else "remove it"
        raise CheckFailed(f"develop also has experiment's {WIP_SUBJECT!r} ({undo}, then "
                          "git push)")
    picked = git(repo, "cherry", develop, typo, f"{typo}^").split()
    if picked[:1] != ["-"]:
        raise CheckFailed(f"develop has no copy of {TYPO_SUBJECT!r} "
                          "(git switch develop && git cherry-pick experiment~1)")
    copy = _on(repo, develop, TYPO_SUBJECT, start)
    return (f"{TYPO_SUBJECT!r} picked" + (f" as {copy[:8]}" if copy else "")
            + f"; {WIP_SUBJECT!r} left on experiment")


def _stashes(repo: Path) -> list[str]:
    """Every stash entry made here: listed, or popped and dropped since (git keeps those
    commits until gc prunes them, weeks later; `git fsck --unreachable` lists them)."""
    listed = [_rev(repo, "refs/stash") or ""]
    fsck = run_git(repo, "fsck", "--unreachable", "--no-reflogs", "--no-progress", check=False)
    lost = [parts[2] for parts in (line.split() for line in fsck.stdout.splitlines())
            if len(parts) == 3 and parts[1] == "commit"]
    found = []
    for sha in filter(None, listed + lost):
        parents = git(repo, "rev-list", "--parents", "-n", "1", sha).split()[1:]
        # A stash entry: a commit whose second parent is the "index on <branch>: ..." commit.
        if len(parents) >= 2 and sha not in found and git(
                repo, "log", "-1", "--format=%s", parents[1]).startswith("index on "):
            found.append(sha)
    return found


@register(LESSON, "git.stash", "a change stashed, popped and committed on develop",
          "git switch develop; edit a file; git stash; git switch main; git switch develop; "
          "git stash pop; git commit -am 'docs: ...'")
def stash(ctx: CheckContext) -> str:
    repo = ctx.need_repo()
    develop = _need_branch(repo, "develop")
    made = _stashes(repo)
    if not made:
        raise CheckFailed("no stash was ever made in this clone (git stash)")
    for entry in made:
        if _carries(repo, (f"{entry}^1", entry), develop):
            subject = git(repo, "log", "-1", "--format=%s", entry)
            return f"the change stashed as {subject!r} is committed on develop"
    if _rev(repo, "refs/stash"):
        raise CheckFailed("your stashed change is still in git stash list: on develop, "
                          "git stash pop, then commit it")
    raise CheckFailed(f"{len(made)} stash(es) popped, but no stashed change is committed on "
                      "develop (git commit -am '...' after git stash pop)")


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
