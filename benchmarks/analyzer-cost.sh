#!/usr/bin/env bash
# Measures the Compose generator's and analyzers' share of a build of a project with N plugins
# (default 200), using the compiler's own per-analyzer timing (-p:ReportAnalyzer=true).
# Usage: bash benchmarks/analyzer-cost.sh [N]   (prints a Markdown table)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
count="${1:-200}"
work="$(mktemp -d)"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
project="$work/ManyPlugins"
mkdir -p "$project"

# A plugin library inside a copy of the repository layout, so it uses the in-repo generator and analyzers.
cat > "$project/ManyPlugins.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <ComposeHost>true</ComposeHost>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
  </PropertyGroup>
  <ItemGroup>
    <FrameworkReference Include="Microsoft.AspNetCore.App" />
  </ItemGroup>
  <Import Project="$repo/src/Compose.InRepo.props" />
</Project>
XML
for name in Directory.Build.props Directory.Build.targets; do echo "<Project />" > "$project/$name"; done
cat > "$project/Directory.Packages.props" <<XML
<Project><Import Project="$repo/Directory.Packages.props" /></Project>
XML
for i in $(seq -w 1 "$count"); do
  cat > "$project/Plugin$i.cs" <<CS
using Compose;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace ManyPlugins;

[ServerPlugin("plugin-$i", Name = "Plugin $i")]
public sealed class Plugin$i(ILogger<Plugin$i> logger) : IServerPlugin
{
    public async Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        var group = router.MapGroup("/items");
        group.MapGet("/{id:int}", (int id) => id * 2);
        router.MapGet("/ping", () => "pong");
        await Task.Yield();
        logger.LogInformation("ready");
    }
}
CS
done

cd "$project"
# Restore, then two warm-up builds through the compiler server (as in an IDE or a developer's repeated builds),
# then the measured incremental build after touching one plugin file.
dotnet build -c Release -nodeReuse:false > /dev/null
for run in 1 2; do
  touch "$project/Plugin$(printf "%0${#count}d" 1).cs"
  dotnet build -c Release --no-restore -nodeReuse:false > /dev/null
done
touch "$project/Plugin$(printf "%0${#count}d" 1).cs"
dotnet build -c Release --no-restore -nodeReuse:false -p:ReportAnalyzer=true -v:d > "$work/build.log"
dotnet build-server shutdown > /dev/null 2>&1 || true

# The compiler prints "Total analyzer execution time" and "Total generator execution time" tables with one
# line per assembly ("  0.136   17   Compose.Analyzers, Version=...").
python3 - "$work/build.log" "$count" <<'PY'
import re, sys
log = open(sys.argv[1], encoding="utf-8", errors="replace").read()
count = sys.argv[2]
def total(kind):
    m = re.search(r"Total %s execution time:\s*([\d.]+) seconds" % kind, log)
    return m.group(1) if m else "n/a"
def entry(assembly):
    m = re.search(r"^\s*([\d.<]+)\s+(\S+)\s+" + re.escape(assembly) + r", Version", log, re.M)
    return (m.group(1), m.group(2)) if m else ("n/a", "n/a")
csc = re.search(r'Target "CoreCompile".*?in project.*?(\d+) ms', log, re.S)
analyzers, generator = entry("Compose.Analyzers"), entry("Compose.Generator")
print(f"| {count} plugins, incremental Release build, warm compiler server | seconds | share |")
print("| --- | --- | --- |")
print(f"| all analyzers | {total('analyzer')} | 100% |")
print(f"| Compose.Analyzers (CMP0008, CMP0009) | {analyzers[0]} | {analyzers[1]}% |")
print(f"| all source generators | {total('generator')} | 100% |")
print(f"| Compose.Generator | {generator[0]} | {generator[1]}% |")
PY
grep -E "Time Elapsed" "$work/build.log" | tail -1
