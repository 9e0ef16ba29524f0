using System.Composition;
using Compose.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;

namespace Compose.CodeFixes;

/// <summary>CMP0001: replaces an invalid plugin id with the valid id the diagnostic suggests ("MyPlugin" → "my-plugin").</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(InvalidPluginIdCodeFix))]
[Shared]
public sealed class InvalidPluginIdCodeFix : LiteralReplacementCodeFix
{
    /// <summary>Creates the fix.</summary>
    public InvalidPluginIdCodeFix()
        : base(DiagnosticIds.InvalidPluginId, DiagnosticIds.SuggestedIdProperty)
    {
    }

    private protected override string Title(string value) => $"Use the plugin id '{value}'";
}
