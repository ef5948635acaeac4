function New-BmsMigrationReport {
    <#
    .SYNOPSIS
    Writes the migration report (HTML and CSV) from what the workspace holds.

    .DESCRIPTION
    Renders the readiness findings, the policy mapping report, the wave plan and the progress
    recorded in the apply journal as an HTML report with CSV files beside it, in -OutputPath
    (default: the workspace's report folder). It never recomputes a result: it shows the
    workspace's artefacts as they are.

    Outputs the files of the report folder (System.IO.FileInfo). A warning names each section
    left out because its step has not run yet.

    .PARAMETER Workspace
    Workspace folder. Default: $env:BMS2INTUNE_WORKSPACE, else .\bms2intune-work.

    .PARAMETER OutputPath
    Folder to write the report into. Default: <workspace>\report.

    .EXAMPLE
    New-BmsMigrationReport -Workspace .\work -OutputPath .\report

    Writes the report into .\report and lists its files.

    .EXAMPLE
    New-BmsMigrationReport -Workspace .\work | Where-Object Extension -eq '.html' | Invoke-Item

    Writes the report into the workspace and opens it in the browser.

    .INPUTS
    None.

    .OUTPUTS
    System.IO.FileInfo

    .LINK
    about_Bms2Intune
    #>
    [CmdletBinding(SupportsShouldProcess)]
    [OutputType([System.IO.FileInfo])]
    param(
        [string] $Workspace,

        [ValidateNotNullOrEmpty()]
        [string] $OutputPath
    )
    try {
        $ws = Resolve-BmsWorkspace -Workspace $Workspace
        $params = [ordered]@{}
        $params['workspace'] = $ws
        $out = Join-Path -Path $ws -ChildPath 'report'
        if ($OutputPath) {
            $out = Resolve-BmsPath -Path $OutputPath
            $params['out'] = $out
        }
        if (-not $PSCmdlet.ShouldProcess($out, 'Write the migration report')) { return }
        try {
            $result = Invoke-BmsRpc -Command 'report' -Params $params
        } catch {
            throw (Get-BmsUnavailableError -ErrorRecord $_ -Feature 'The migration report')
        }
        Write-Verbose -Message ('Report sections: {0}' -f ((ConvertTo-BmsArray $result.sections) -join ', '))
        foreach ($m in (ConvertTo-BmsArray $result.missing)) {
            Write-Warning -Message "The report has no '$m' section: that step has not run in '$ws' yet."
        }
        $folder = Split-Path -Path (Resolve-BmsPath -Path $result.html) -Parent
        Get-ChildItem -LiteralPath $folder -File | Sort-Object -Property Name
    } catch {
        $PSCmdlet.ThrowTerminatingError($_)
    }
}
