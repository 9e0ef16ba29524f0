#!/usr/bin/env bash
# Measures the Compose generator's and analyzers' share of a build of a project with N plugins
# (default 200), using the compiler's own per-analyzer timing (-p:ReportAnalyzer=true).
# Usage: bash benchmarks/analyzer-cost.sh [N]   (prints a Markdown table)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
count="${1:-200}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
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
dotnet build -c Release -nodeReuse:false -p:UseSharedCompilation=false > /dev/null   # restore and warm up
touch "$project/Plugin$(printf "%0${#count}d" 1).cs"
dotnet build -c Release --no-restore -nodeReuse:false -p:UseSharedCompilation=false -p:ReportAnalyzer=true -v:n > "$work/build.log"

# The compiler prints "Total analyzer execution time" and "Total generator execution time" blocks with one
# line per assembly and per analyzer/generator.
python3 - "$work/build.log" "$count" <<'PY'
import re, sys
log = open(sys.argv[1], encoding="utf-8", errors="replace").read()
count = sys.argv[2]
def total(kind):
    m = re.search(r"Total %s execution time:\s*([\d.]+) seconds" % kind, log)
    return float(m.group(1)) if m else None
def entry(name):
    m = re.search(r"([\d.<]+)\s+(\d+)\s+" + re.escape(name) + r"\b", log)
    return m.group(1) if m else "n/a"
csc = re.findall(r"Csc.*?(\d+) ms", log)
print(f"| measurement ({count} plugins, Release, incremental rebuild) | seconds |")
print("| --- | --- |")
print(f"| all analyzers (total) | {total('analyzer')} |")
print(f"| Compose.Analyzers (RouteRegistrationAnalyzer) | {entry('Compose.Analyzers')} |")
print(f"| all generators (total) | {total('generator')} |")
print(f"| Compose.Generator (ComposeGenerator) | {entry('Compose.Generator')} |")
PY
grep -E "Time Elapsed" "$work/build.log" | tail -1
