using System.Composition;
using Compose.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;

namespace Compose.CodeFixes;

/// <summary>CMP0013: writes the route pattern relative to the plugin's group (<c>"/api/plugins/notes/list"</c> → <c>"/list"</c>).</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RoutePrefixCodeFix))]
[Shared]
public sealed class RoutePrefixCodeFix : LiteralReplacementCodeFix
{
    /// <summary>Creates the fix.</summary>
    public RoutePrefixCodeFix()
        : base(DiagnosticIds.RoutePatternRepeatsPrefix, DiagnosticIds.RelativePatternProperty)
    {
    }

    private protected override string Title(string value) => $"Map '{value}' (relative to the plugin's route group)";
}
